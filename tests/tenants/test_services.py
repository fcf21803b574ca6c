from datetime import timedelta

import pytest
from django.utils import timezone

from billing.selectors import payment_required
from core.models import AuditEvent
from tenants import services
from tenants.models import Tenant
from tests.support.queue import jobs_run

pytestmark = pytest.mark.django_db


def test_suspend_and_activate_write_audit_events(make_workspace):
    a = make_workspace("alpha")
    services.tenant_suspend(tenant=a, actor="op@example.com", reason="chargeback", ip_address="198.51.100.1")
    a.refresh_from_db()
    assert a.status == Tenant.Status.SUSPENDED
    event = AuditEvent.objects.filter(tenant=a).first()
    assert (event.action, event.actor, event.ip_address) == ("tenant.suspended", "op@example.com", "198.51.100.1")
    assert event.details == {"from": "trialing", "to": "suspended", "reason": "chargeback"}

    services.tenant_activate(tenant=a, actor="op@example.com")
    a.refresh_from_db()
    assert a.status == Tenant.Status.TRIALING  # trial still running
    assert AuditEvent.objects.filter(tenant=a).first().action == "tenant.activated"


def test_activating_after_the_trial_never_gives_the_workspace_away(make_workspace):
    a = make_workspace("alpha")
    Tenant.objects.filter(pk=a.pk).update(trial_ends_at=timezone.now() - timedelta(days=1), status="suspended")
    a.refresh_from_db()
    services.tenant_activate(tenant=a, actor="op")
    jobs_run()  # billing's recheck: no subscription, trial over
    a.refresh_from_db()
    assert a.status == Tenant.Status.TRIALING and payment_required(a)


def test_suspending_twice_writes_one_event(make_workspace):
    a = make_workspace("alpha")
    a = services.tenant_suspend(tenant=a, actor="op")
    services.tenant_suspend(tenant=a, actor="op")
    assert AuditEvent.objects.filter(tenant=a, action="tenant.suspended").count() == 1


def test_extend_trial_moves_the_end_and_is_audited(make_workspace):
    a = make_workspace("alpha")
    before = a.trial_ends_at
    a = services.tenant_extend_trial(tenant=a, days=7, actor="op@example.com")
    assert a.trial_ends_at == before + timedelta(days=7)
    event = AuditEvent.objects.filter(tenant=a).first()
    assert event.action == "tenant.trial_extended" and event.details["days"] == 7


def test_extend_an_expired_trial_counts_from_now(make_workspace):
    a = make_workspace("alpha")
    Tenant.objects.filter(pk=a.pk).update(trial_ends_at=timezone.now() - timedelta(days=30))
    a.refresh_from_db()
    a = services.tenant_extend_trial(tenant=a, days=3, actor="op")
    assert timedelta(days=2, hours=23) < a.trial_ends_at - timezone.now() <= timedelta(days=3)


@pytest.mark.parametrize("days", [0, -1, 366])
def test_extend_trial_refuses_silly_numbers(make_workspace, days):
    a = make_workspace("alpha")
    with pytest.raises(services.InvalidStateChange):
        services.tenant_extend_trial(tenant=a, days=days, actor="op")


def test_state_changes_refuse_non_workspaces():
    spare = Tenant.objects.spares().first()
    with pytest.raises(services.InvalidStateChange):
        services.tenant_suspend(tenant=spare, actor="op")
