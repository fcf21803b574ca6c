"""A closed workspace's lifecycle: operators reopen it during the grace period, and a purge deletes it (schema,
domains, row) only once that period is over. Closing it from its settings: tests/accounts/test_workspace_settings.py."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_exists

from core.models import AuditEvent
from tenants import services
from tenants.models import Domain, Tenant
from tests.support.clients import logged_in_client, workspace_client
from tests.support.workspaces import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    tenant = make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")
    add_member(tenant, "admin@acme.test", "admin")
    add_member(tenant, "mia@acme.test", "member")
    return tenant


def test_operators_can_reopen_during_the_grace_period(acme):
    services.tenant_close(tenant=acme, actor="owner@acme.test")
    services.tenant_reopen(tenant=acme, actor="op@example.com")
    acme.refresh_from_db()
    assert not acme.is_closed and acme.status == Tenant.Status.TRIALING
    assert logged_in_client(acme, "mia@acme.test").get("/").status_code == 200
    with pytest.raises(services.InvalidStateChange):
        services.tenant_reopen(tenant=acme, actor="op@example.com")


def test_purge_deletes_only_workspaces_past_their_grace_period(acme, make_workspace, settings):
    recent = make_workspace("recent")
    active = make_workspace("active")
    services.tenant_close(tenant=acme, actor="owner@acme.test")
    services.tenant_close(tenant=recent, actor="owner")
    Tenant.objects.filter(pk=acme.pk).update(
        closed_at=timezone.now() - timedelta(days=settings.DELETION_GRACE_DAYS, minutes=1)
    )
    Tenant.objects.filter(pk=recent.pk).update(
        closed_at=timezone.now() - timedelta(days=settings.DELETION_GRACE_DAYS - 1)
    )

    call_command("purge_closed_tenants")
    connection.set_schema_to_public()
    assert not Tenant.objects.filter(pk=acme.pk).exists()
    assert not schema_exists(acme.schema_name)
    assert not Domain.objects.filter(domain="acme.localhost").exists()
    assert Tenant.objects.filter(pk=recent.pk).exists() and schema_exists(recent.schema_name)
    assert Tenant.objects.filter(pk=active.pk).exists()
    trail = AuditEvent.objects.filter(tenant_label="acme")
    assert trail.filter(action="tenant.purged").exists() and trail.filter(action="tenant.provisioned").exists()
    assert workspace_client(acme).get("/").status_code == 404

    call_command("purge_closed_tenants")  # idempotent: nothing more to do
    assert Tenant.objects.filter(pk=recent.pk).exists()


def test_purge_refuses_a_workspace_in_its_grace_period(acme):
    services.tenant_close(tenant=acme, actor="owner")
    with pytest.raises(services.InvalidStateChange):
        services.tenant_purge(tenant=acme)


def test_admin_reopen_action(acme, operator_client):
    services.tenant_close(tenant=acme, actor="owner")
    client = operator_client
    client.post("/admin/tenants/tenant/", {"action": "reopen", "_selected_action": [acme.pk], "days": ""})
    acme.refresh_from_db()
    assert not acme.is_closed
    assert AuditEvent.objects.filter(tenant=acme, action="tenant.reopened", actor="op@example.com").exists()
