"""Signup on the public host: validation, provisioning, hand-off, legal records, welcome email."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from core.models import AuditEvent
from legal.models import LegalAcceptance
from notifications.models import EmailLog
from tenants.models import Domain, Tenant
from tests.support.clients import host_client
from tests.support.queue import jobs_run, outbox
from tests.support.workspaces import PASSWORD, signup_data

pytestmark = pytest.mark.django_db


def post_signup(public_client, **overrides):
    return public_client.post("/signup/", signup_data(**overrides), REMOTE_ADDR="203.0.113.7")


def test_landing_shows_product_plans_and_signup(public_client):
    response = public_client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Starter", "Growth", "Scale", "19.00 USD</strong> /&nbsp;month", 'href="/signup/"'):
        assert text in body


def test_signup_form_links_terms_and_privacy(public_client):
    body = public_client.get("/signup/").content.decode()
    assert 'href="/terms/"' in body and 'href="/privacy/"' in body
    assert 'name="accept_terms"' in body


def test_signup_creates_trialing_workspace_and_hands_login_over(
    public_client, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signup(public_client)
    assert response.status_code == 302
    assert response["Location"].startswith("http://acme.localhost/welcome/?token=")

    tenant = Tenant.objects.get(subdomain="acme")
    assert tenant.kind == Tenant.Kind.WORKSPACE
    assert tenant.status == Tenant.Status.TRIALING
    assert tenant.business_name == "Acme Bakery"
    assert tenant.trial_days_left == settings.TRIAL_DAYS
    assert Domain.objects.filter(tenant=tenant, domain="acme.localhost").exists()
    with schema_context(tenant.schema_name):
        owner = User.objects.get()
        assert (owner.email, owner.full_name, owner.role) == ("ada@acme.test", "Ada Baker", User.Role.OWNER)
        assert owner.check_password(PASSWORD)
    connection.set_schema_to_public()
    events = AuditEvent.objects.filter(tenant=tenant).order_by("pk").values_list("action", "actor", "ip_address")
    assert list(events) == [
        ("tenant.provisioned", "ada@acme.test", "203.0.113.7"),
        ("legal.accepted", "ada@acme.test", "203.0.113.7"),
    ]

    # The hand-off link logs the owner in on the workspace's own host.
    workspace = host_client("acme.localhost")
    landed = workspace.get(response["Location"].removeprefix("http://acme.localhost"))
    assert landed.status_code == 200 and "Open my workspace" in landed.content.decode()
    token = response["Location"].split("token=", 1)[1]
    entered = workspace.post("/welcome/", {"token": token})
    assert entered.status_code == 302 and entered["Location"] == "/"
    dashboard = workspace.get("/")
    assert dashboard.status_code == 200
    assert b"Acme Bakery" in dashboard.content and b"Ada Baker" in dashboard.content
    assert b"14 days left" in dashboard.content

    # Welcome email, after commit, to the owner, linking to the workspace.
    assert len(outbox()) == 1
    welcome = outbox()[0]
    assert welcome.to == ["ada@acme.test"]
    assert "http://acme.localhost/login/" in welcome.body
    assert welcome.anymail_test_params["tags"] == ["welcome"]


def test_signup_records_legal_acceptance_with_versions_time_and_ip(public_client, settings):
    post_signup(public_client)
    tenant = Tenant.objects.get(subdomain="acme")
    records = {a.document: a for a in LegalAcceptance.objects.filter(tenant=tenant)}
    assert set(records) == {"terms", "privacy"}
    assert records["terms"].version == settings.TERMS_VERSION
    assert records["privacy"].version == settings.PRIVACY_VERSION
    assert all(a.email == "ada@acme.test" and a.ip_address == "203.0.113.7" for a in records.values())
    assert all(a.accepted_at is not None for a in records.values())


def test_subdomain_is_case_insensitive_and_stored_lower_case(public_client):
    assert post_signup(public_client, subdomain="  Acme-Bakery ").status_code == 302
    assert Tenant.objects.filter(subdomain="acme-bakery").exists()
    again = post_signup(public_client, subdomain="ACME-BAKERY", email="other@x.test")
    assert again.status_code == 400
    assert "already taken" in again.content.decode()


@pytest.mark.parametrize(
    ("subdomain", "message"),
    [
        ("ab", "3 to 63 characters"),
        ("a" * 64, "3 to 63 characters"),
        ("-acme", "start and end with a letter or digit"),
        ("acme-", "start and end with a letter or digit"),
        ("ac_me", "Use only letters a-z"),
        ("ac.me", "Use only letters a-z"),
        ("acmé", "Use only letters a-z"),
        ("xn--acme", "not available"),
        ("www", "reserved"),
        ("admin", "reserved"),
        ("api", "reserved"),
        ("billing", "reserved"),
        ("", "This field is required"),
    ],
)
def test_invalid_subdomains_are_refused_with_a_form_error(public_client, subdomain, message):
    spares = Tenant.objects.spares().count()
    response = post_signup(public_client, subdomain=subdomain)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Tenant.objects.workspaces().count() == 0
    assert Tenant.objects.spares().count() == spares


def test_reserved_subdomains_are_configurable(public_client, settings):
    settings.RESERVED_SUBDOMAINS = frozenset({"acme"})
    assert "reserved" in post_signup(public_client).content.decode()
    assert post_signup(public_client, subdomain="www").status_code == 302


def test_taken_subdomain_is_refused(public_client, make_workspace):
    make_workspace("acme")
    response = post_signup(public_client, email="someone@else.test")
    assert response.status_code == 400
    assert "already taken" in response.content.decode()
    assert Tenant.objects.filter(subdomain="acme").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"accept_terms": None}, "Please accept the Terms of Service"),
        ({"password": "short"}, "too short"),
        ({"password": "password1234"}, "too common"),
        ({"password": "ada@acme.test"}, "too similar"),
        ({"email": "not-an-email"}, "valid email"),
        ({"business_name": "   "}, "This field is required"),
        ({"full_name": ""}, "This field is required"),
    ],
)
def test_invalid_signup_fields_show_errors_and_create_nothing(public_client, overrides, field_message):
    response = post_signup(public_client, **overrides)
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert not Tenant.objects.workspaces().exists()
    assert not LegalAcceptance.objects.exists()


def test_user_supplied_names_are_escaped(public_client):
    evil = '<script>alert("x")</script> & Co'
    post_signup(public_client, business_name=evil, full_name='<img src=x onerror="alert(1)">')
    tenant = Tenant.objects.get(subdomain="acme")
    client = host_client(tenant.host)
    client.post("/login/", {"username": "ada@acme.test", "password": PASSWORD})
    body = client.get("/").content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in body


def test_signup_form_error_page_escapes_input(public_client):
    body = post_signup(public_client, subdomain="<b>bad</b>").content.decode()
    assert "<b>bad</b>" not in body


def test_provisioning_uses_a_spare_when_pool_has_one(public_client):
    spare_ids = set(Tenant.objects.spares().values_list("pk", flat=True))
    post_signup(public_client)
    tenant = Tenant.objects.get(subdomain="acme")
    assert tenant.pk in spare_ids
    assert Tenant.objects.spares().count() == len(spare_ids) - 1


def test_provisioning_falls_back_to_cloning_when_pool_is_empty(public_client):
    Tenant.objects.spares().delete()  # rows only; rolled back with the test's transaction
    assert post_signup(public_client).status_code == 302
    tenant = Tenant.objects.get(subdomain="acme")
    with schema_context(tenant.schema_name):
        assert User.objects.get().email == "ada@acme.test"


def test_failure_midway_leaves_no_half_made_workspace(public_client):
    from django.db import DataError

    from accounts import signup

    spares_before = set(Tenant.objects.spares().values_list("pk", flat=True))
    with pytest.raises(DataError):
        signup.workspace_create(
            business_name="Broken",
            subdomain="broken",
            owner_email=("x" * 300) + "@example.com",  # too long for the user table: fails after the claim
            owner_name="B",
            owner_password_hash="!",
        )
    connection.set_schema_to_public()
    assert not Tenant.objects.filter(subdomain="broken").exists()
    assert not Domain.objects.filter(domain="broken.localhost").exists()
    assert not AuditEvent.objects.filter(tenant_label="broken").exists()
    assert set(Tenant.objects.spares().values_list("pk", flat=True)) == spares_before


def test_signup_never_waits_for_the_email_provider(public_client, settings, caplog):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"  # no server token: every send fails
    settings.ANYMAIL = {}
    response = post_signup(public_client)
    assert response.status_code == 302
    assert Tenant.objects.filter(subdomain="acme").exists()
    welcome = EmailLog.objects.get(kind="welcome", tenant__subdomain="acme")
    assert welcome.status == EmailLog.Status.QUEUED and welcome.attempts == 0  # nothing was tried in the request
    jobs_run()
    welcome.refresh_from_db()
    assert welcome.status == EmailLog.Status.FAILED and welcome.attempts == 5
    assert f"email {welcome.pk} (welcome to workspace acme) failed" in caplog.text


def test_no_email_is_sent_when_signup_fails(public_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signup(public_client, password="short")
    assert outbox() == []


def test_an_empty_post_is_a_refused_submission_not_a_page_view(public_client):
    response = public_client.post("/signup/", {})
    assert response.status_code == 400
    assert response.content.decode().count("This field is required") >= 5


@pytest.mark.usefixtures("clock_still")
def test_signups_are_throttled_per_client_ip(public_client, settings):
    settings.SIGNUP_RATE_PER_IP = "2/h"
    codes = [
        public_client.post(
            "/signup/", signup_data(subdomain=f"shop-{n}", email=f"o{n}@x.test"), REMOTE_ADDR="192.0.2.5"
        ).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    assert not Tenant.objects.filter(subdomain="shop-2").exists()
    other = public_client.post("/signup/", signup_data(subdomain="shop-9", email="o9@x.test"), REMOTE_ADDR="192.0.2.6")
    assert other.status_code == 302


@pytest.mark.usefixtures("clock_still")
def test_form_errors_do_not_count_towards_the_signup_limit(public_client, settings):
    settings.SIGNUP_RATE_PER_IP = "2/h"
    for _ in range(5):  # a person who mistypes their password five times
        assert public_client.post("/signup/", signup_data(password="short"), REMOTE_ADDR="192.0.2.7").status_code == 400
    assert public_client.post("/signup/", signup_data(), REMOTE_ADDR="192.0.2.7").status_code == 302


@pytest.mark.usefixtures("clock_still")
def test_a_global_cap_brakes_scripted_signups_from_many_addresses(public_client, settings):
    settings.SIGNUP_RATE_GLOBAL = "2/h"
    codes = [
        public_client.post(
            "/signup/", signup_data(subdomain=f"bulk-{n}", email=f"b{n}@x.test"), REMOTE_ADDR=f"192.0.2.{20 + n}"
        ).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
