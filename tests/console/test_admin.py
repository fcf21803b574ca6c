"""The operators' admin on the public host."""

import pytest
from django.contrib.auth.hashers import make_password
from django_tenants.utils import schema_context

from accounts.models import User
from core.models import AuditEvent
from tenants.models import Tenant
from tests.support.clients import host_client
from tests.support.workspaces import PASSWORD

pytestmark = pytest.mark.django_db


def test_tenant_list_columns_and_user_counts(operator_client, make_workspace):
    a = make_workspace("alpha", business_name="Alpha Ltd")
    make_workspace("bravo", business_name="Bravo Inc")
    with schema_context(a.schema_name):
        User.objects.create(email="second@alpha.test", password=make_password(PASSWORD))
        User.objects.create(email="third@alpha.test", password=make_password(PASSWORD))
    response = operator_client.get("/admin/tenants/tenant/")
    assert response.status_code == 200
    body = response.content.decode()
    for header in ("Business name", "Subdomain", "Status", "Plan", "Trial ends", "Created", "Users"):
        assert header in body
    rows = {t.subdomain: t for t in response.context["cl"].result_list}
    assert set(rows) == {"alpha", "bravo"}  # no public, template or spare rows
    assert rows["alpha"].user_count == 3 and rows["bravo"].user_count == 1


def test_tenant_list_queries_do_not_grow_with_the_number_of_workspaces(operator_client, make_workspace):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator_client.get("/admin/tenants/tenant/").status_code == 200
        return len(captured)

    make_workspace("shop-a")
    few = queries_for_list()
    for n in range(5):
        make_workspace(f"shop-{n}")
    assert queries_for_list() == few


def test_search_and_filters(operator_client, make_workspace):
    from tenants import services

    a = make_workspace("alpha", business_name="Alpha Ltd")
    make_workspace("bravo", business_name="Bravo Inc")
    services.tenant_suspend(tenant=a, actor="op")

    def listed(query):
        return {t.subdomain for t in operator_client.get("/admin/tenants/tenant/", query).context["cl"].result_list}

    assert listed({"q": "alpha"}) == {"alpha"}
    assert listed({"q": "Bravo"}) == {"bravo"}
    assert listed({"status__exact": "suspended"}) == {"alpha"}
    assert listed({"plan": "starter"}) == {"alpha", "bravo"}
    assert listed({"plan": "scale"}) == set()


def test_actions_call_the_services_and_are_audited(operator_client, make_workspace):
    a = make_workspace("alpha")
    b = make_workspace("bravo")
    url = "/admin/tenants/tenant/"
    operator_client.post(url, {"action": "suspend", "_selected_action": [a.pk, b.pk], "days": ""})
    assert set(Tenant.objects.workspaces().values_list("status", flat=True)) == {"suspended"}
    operator_client.post(url, {"action": "activate", "_selected_action": [a.pk], "days": ""})
    a.refresh_from_db()
    assert a.status == "trialing"
    before = a.trial_ends_at
    operator_client.post(url, {"action": "extend_trial", "_selected_action": [a.pk], "days": "10"})
    a.refresh_from_db()
    assert (a.trial_ends_at - before).days == 10
    actions = [(e.action, e.actor) for e in AuditEvent.objects.filter(tenant=a).order_by("pk")]
    assert actions == [
        ("tenant.provisioned", a.owner_email),
        ("tenant.suspended", "op@example.com"),
        ("tenant.activated", "op@example.com"),
        ("tenant.trial_extended", "op@example.com"),
    ]


def test_extend_trial_without_days_is_refused_with_a_message(operator_client, make_workspace):
    a = make_workspace("alpha")
    response = operator_client.post(
        "/admin/tenants/tenant/", {"action": "extend_trial", "_selected_action": [a.pk], "days": ""}, follow=True
    )
    assert "Enter a number of days" in response.content.decode()
    assert not AuditEvent.objects.filter(tenant=a, action="tenant.trial_extended").exists()


def test_tenant_page_shows_domains_and_audit_events(operator_client, make_workspace):
    a = make_workspace("alpha", business_name="Alpha Ltd")
    body = operator_client.get(f"/admin/tenants/tenant/{a.pk}/change/").content.decode()
    assert "alpha.localhost" in body
    assert "tenant.provisioned" in body


def test_audit_log_is_read_only(operator_client, make_workspace):
    a = make_workspace("alpha")
    event = AuditEvent.objects.get(tenant=a)
    assert operator_client.get("/admin/core/auditevent/").status_code == 200
    assert operator_client.get("/admin/core/auditevent/add/").status_code == 403
    assert operator_client.post(f"/admin/core/auditevent/{event.pk}/change/", {"action": "x"}).status_code == 403
    assert operator_client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "tenant.provisioned"


def test_names_are_escaped_in_the_admin(operator_client, make_workspace):
    make_workspace("alpha", business_name="<script>alert(1)</script>")
    body = operator_client.get("/admin/tenants/tenant/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_non_operators_cannot_use_the_admin(make_workspace, settings):
    User.objects.create_user("staff@example.com", PASSWORD)  # public-schema user without staff rights
    client = host_client(settings.BASE_DOMAIN)
    client.login(username="staff@example.com", password=PASSWORD)
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_the_operators_site_is_the_default_admin_site_under_djangos_name():
    """Installed by OperatorsAdminConfig.default_site, named "admin" (OTPAdminSite would name itself otpadmin)."""
    from django.contrib import admin
    from django.urls import resolve

    from console.admin_site import OperatorAdminSite

    assert isinstance(admin.site, OperatorAdminSite) and admin.site.name == "admin"
    assert resolve("/admin/", urlconf="config.urls_public").namespace == "admin"
