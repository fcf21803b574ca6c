"""Own account: password, email, sessions, password reset, hashing."""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.services import PASSWORD_RESET_TASK
from core.models import AuditEvent
from notifications.models import EmailLog
from tests.support.clients import logged_in_client, workspace_client
from tests.support.email import link_in
from tests.support.queue import jobs_by_status, jobs_run, outbox
from tests.support.workspaces import PASSWORD, add_member, users_of

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


def test_password_change_keeps_this_session_and_ends_the_others(acme):
    laptop, phone = logged_in_client(acme), logged_in_client(acme)
    response = laptop.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    assert logged_in_client(acme, password=NEW_PASSWORD).get("/").status_code == 200


def test_password_change_applies_the_validators(acme):
    client = logged_in_client(acme)
    response = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert response.status_code == 200 and "too short" in response.content.decode()


def test_log_out_my_other_sessions(acme):
    laptop, phone = logged_in_client(acme), logged_in_client(acme)
    assert laptop.post("/account/sessions/end-others/").status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    assert AuditEvent.objects.filter(tenant=acme, action="member.sessions_ended").exists()


def test_email_change_is_confirmed_from_the_new_address(acme, make_workspace, django_capture_on_commit_callbacks):
    client = logged_in_client(acme)
    response = client.post("/account/email/", {"new_email": "Boss@Acme.test", "password": PASSWORD})
    assert response.status_code == 302
    message = outbox()[-1]
    assert message.to == ["boss@acme.test"]
    link = link_in(message, "http://acme.localhost/account/email/confirm/")
    path = link.removeprefix("http://acme.localhost")
    assert [u.email for u in users_of(acme)] == ["owner@acme.test"]  # nothing changes before the click

    other = make_workspace("other", owner_email="owner@acme.test")  # same email, other workspace
    assert workspace_client(other).get(path).status_code == 400
    assert [u.email for u in users_of(other)] == ["owner@acme.test"]

    page = client.get(path)
    assert page.status_code == 200 and "Use boss@acme.test" in page.content.decode()
    assert [u.email for u in users_of(acme)] == ["owner@acme.test"]  # opening the link changes nothing
    assert client.post(path).status_code == 302
    assert [u.email for u in users_of(acme)] == ["boss@acme.test"]
    notice = outbox()[-1]
    assert notice.to == ["owner@acme.test"] and "boss@acme.test" in notice.body
    acme.refresh_from_db()
    assert acme.owner_email == "boss@acme.test"
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.content.decode()


def test_email_change_needs_the_current_password_and_a_free_address(acme):
    add_member(acme, "taken@acme.test")
    client = logged_in_client(acme)
    wrong = client.post("/account/email/", {"new_email": "x@acme.test", "password": "nope"})
    assert wrong.status_code == 400 and "not your current password" in wrong.content.decode()
    taken = client.post("/account/email/", {"new_email": "taken@acme.test", "password": PASSWORD})
    assert taken.status_code == 400 and "already uses" in taken.content.decode()
    assert outbox() == []


def test_password_reset_by_email_link(acme):
    client = workspace_client(acme)
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()
    response = client.post("/password-reset/", {"email": "owner@acme.test"})
    assert response.status_code == 302
    message = outbox()[-1]
    assert message.to == ["owner@acme.test"] and "Acme" in message.subject
    path = link_in(message, "http://acme.localhost/password-reset/").removeprefix("http://acme.localhost")
    form_page = client.get(path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert logged_in_client(acme, password=NEW_PASSWORD).get("/").status_code == 200
    reused = workspace_client(acme).get(path, follow=True)
    assert "cannot be used" in reused.content.decode()


def test_password_reset_answer_is_the_same_for_unknown_addresses(acme):
    client = workspace_client(acme)
    known = client.post("/password-reset/", {"email": "owner@acme.test"})
    unknown = client.post("/password-reset/", {"email": "nobody@acme.test"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(outbox()) == 1


def test_password_reset_request_does_the_same_work_whether_or_not_the_account_exists(acme):
    """The request only queues a job (the worker looks the account up), so its timing tells nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def shape(email: str) -> list[str]:
        client = workspace_client(acme)
        client.get("/password-reset/")
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/password-reset/", {"email": email})
        assert response.status_code == 302
        statements = [re.sub(r'"s\d+_x\d+"', "<savepoint>", query["sql"]) for query in queries]
        return [sql.split(" ")[0] + " " + sql.split("FROM")[-1][:40] for sql in statements]

    known, unknown = shape("owner@acme.test"), shape("nobody@acme.test")
    assert known == unknown
    assert not any("accounts_user" in query for query in known)  # no account lookup in the request
    assert mail.outbox == [] and not EmailLog.objects.exists()  # nothing sent or logged yet
    assert jobs_by_status(PASSWORD_RESET_TASK) == {"todo": 2}
    jobs_run()
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]


def test_a_reset_link_from_workspace_a_is_useless_on_b(make_workspace):
    a = make_workspace("alpha", owner_email="same@person.test")
    b = make_workspace("bravo", owner_email="same@person.test")
    # Worst case: same user id, same email and same password hash in both workspaces.
    owner_a = users_of(a)[0]
    with schema_context(b.schema_name):
        User.objects.all().delete()
        User.objects.create(
            pk=owner_a.pk, email=owner_a.email, password=owner_a.password, last_login=owner_a.last_login
        )
    workspace_client(a).post("/password-reset/", {"email": "same@person.test"})
    path = link_in(outbox()[-1], "http://alpha.localhost/password-reset/").removeprefix("http://alpha.localhost")
    on_b = workspace_client(b).get(path, follow=True)
    assert "cannot be used" in on_b.content.decode()


def test_seed_bcrypt_hashes_are_accepted_and_upgraded_to_argon2(acme, settings):
    import bcrypt

    settings.PASSWORD_HASHERS = [
        "accounts.hashers.Argon2idHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
    ]
    seed_hash = bcrypt.hashpw(b"seed app password", bcrypt.gensalt(rounds=10)).decode()  # what the seed stored
    add_member(acme, "legacy@acme.test", password=None)
    with schema_context(acme.schema_name):
        User.objects.filter(email="legacy@acme.test").update(password=f"bcrypt${seed_hash}")
    assert logged_in_client(acme, "legacy@acme.test", "seed app password").get("/").status_code == 200
    with schema_context(acme.schema_name):
        assert User.objects.get(email="legacy@acme.test").password.startswith("argon2$")


def test_new_passwords_are_hashed_with_argon2id_at_owasps_parameters_in_production_settings(settings):
    settings.PASSWORD_HASHERS = settings.PASSWORD_HASHERS[1:]  # drop the test-only fast hasher
    assert make_password("x" * 12).startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_hashes_with_djangos_default_argon2_parameters_still_work_and_are_upgraded(acme, settings):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    settings.PASSWORD_HASHERS = settings.PASSWORD_HASHERS[1:]
    old_hash = Argon2PasswordHasher().encode("older password 42", Argon2PasswordHasher().salt())
    assert "m=102400,t=2,p=8" in old_hash
    add_member(acme, "older@acme.test", password=None)
    with schema_context(acme.schema_name):
        User.objects.filter(email="older@acme.test").update(password=old_hash)
    assert logged_in_client(acme, "older@acme.test", "older password 42").get("/").status_code == 200
    with schema_context(acme.schema_name):
        assert "m=19456,t=2,p=1" in User.objects.get(email="older@acme.test").password


def _email_change_link(tenant, client, new_email: str) -> str:
    client.post("/account/email/", {"new_email": new_email, "password": PASSWORD})
    return link_in(outbox()[-1], f"http://{tenant.host}/account/email/confirm/").removeprefix(f"http://{tenant.host}")


def test_an_email_change_link_is_refused_for_a_deactivated_member(acme):
    from django_tenants.utils import schema_context

    add_member(acme, "mia@acme.test")
    mia = logged_in_client(acme, "mia@acme.test")
    path = _email_change_link(acme, mia, "mia.new@acme.test")
    with schema_context(acme.schema_name):
        User.objects.filter(email="mia@acme.test").update(is_active=False)
    response = workspace_client(acme).post(path)
    assert response.status_code == 400 and "deactivated" in response.content.decode()
    assert "mia@acme.test" in [u.email for u in users_of(acme)]


def test_an_email_change_link_is_refused_once_the_workspace_is_closed(acme):
    from tenants import services as tenant_services

    owner = logged_in_client(acme)
    path = _email_change_link(acme, owner, "boss@acme.test")
    tenant_services.tenant_close(tenant=acme, actor="owner@acme.test")
    assert owner.get(path).status_code in (400, 403)
    assert owner.post(path).status_code in (400, 403)
    assert [u.email for u in users_of(acme)] == ["owner@acme.test"]


def test_email_change_tokens_are_opaque_and_stored_hashed(acme):
    import re as regex

    from accounts.models import EmailChange, Invitation

    client = logged_in_client(acme)
    path = _email_change_link(acme, client, "boss@acme.test")
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert regex.fullmatch(r"[0-9a-f]{64}", token)  # no readable payload (the old links were signed JSON)
    with schema_context(acme.schema_name):
        change = EmailChange.objects.get()
    assert change.token_hash == Invitation.hash_token(token) and token not in change.token_hash
