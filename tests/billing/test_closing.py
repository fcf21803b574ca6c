"""Scenario 10: closing a workspace stops its subscription's renewal through Stripe's API (retried by the
queue when Stripe is down), reopening resumes it, purging ends it at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import JobFailure
from tenants import services as tenant_services
from tenants.models import Tenant
from tests.support.clients import logged_in_client
from tests.support.queue import jobs_by_status, jobs_run
from tests.support.stripe_events import event, subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(make_workspace, priced_plans, customer_of, deliver):
    acme = make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")
    deliver(event("customer.subscription.created", subscription(customer_of(acme, "cus_acme"))))
    return acme


def renewal_calls(fake_stripe) -> list[str]:
    return [
        call["params"].get("cancel_at_period_end") for call in fake_stripe.calls("POST", "/v1/subscriptions/sub_test1")
    ]


def test_closing_stops_the_renewal_and_reopening_resumes_it(subscribed, fake_stripe):
    response = logged_in_client(subscribed).post("/settings/close/", {"confirm": "acme"})
    assert response.status_code == 302
    jobs_run()
    assert renewal_calls(fake_stripe) == ["true"]
    assert fake_stripe.objects["sub_test1"]["cancel_at_period_end"] is True
    tenant_services.tenant_reopen(tenant=subscribed, actor="op@example.com")
    jobs_run()
    assert renewal_calls(fake_stripe) == ["true", "false"]


def test_closing_while_stripe_is_down_still_closes_and_the_queue_retries(subscribed, fake_stripe):
    fake_stripe.down = True
    tenant_services.tenant_close(tenant=subscribed, actor="owner@acme.test")
    subscribed.refresh_from_db()
    assert subscribed.is_closed
    jobs_run(retries_due=False)
    assert jobs_by_status("billing.workspace_closed") == {"todo": 1}  # waiting for its retry
    assert JobFailure.objects.filter(task_name="billing.workspace_closed").exists()
    fake_stripe.down = False
    jobs_run()
    assert jobs_by_status("billing.workspace_closed") == {"succeeded": 1}
    assert fake_stripe.objects["sub_test1"]["cancel_at_period_end"] is True


def test_purging_ends_the_subscription_at_once(subscribed, fake_stripe):
    tenant_services.tenant_close(tenant=subscribed, actor="owner@acme.test")
    Tenant.objects.filter(pk=subscribed.pk).update(closed_at=timezone.now() - timedelta(days=365))
    assert tenant_services.tenants_purge_due() == ["acme"]
    jobs_run()
    assert len(fake_stripe.calls("DELETE", "/v1/subscriptions/sub_test1")) == 1
    assert fake_stripe.objects["sub_test1"]["status"] == "canceled"


def test_close_reopen_close_within_the_hour_stops_the_renewal_again(subscribed, fake_stripe):
    tenant_services.tenant_close(tenant=subscribed, actor="owner@acme.test")
    jobs_run()
    tenant_services.tenant_reopen(tenant=subscribed, actor="op@example.com")
    jobs_run()
    tenant_services.tenant_close(tenant=subscribed, actor="owner@acme.test")
    jobs_run()
    assert renewal_calls(fake_stripe) == ["true", "false", "true"]
    assert fake_stripe.objects["sub_test1"]["cancel_at_period_end"] is True
    calls = fake_stripe.calls("POST", "/v1/subscriptions/sub_test1")
    keys = [call["headers"].get("Idempotency-Key") for call in calls]
    assert len(set(keys)) == 3  # stripe-python's own key per request: Stripe cannot replay an earlier answer


def test_the_nightly_reconcile_stops_a_closed_workspaces_renewal_if_the_job_never_did(subscribed, fake_stripe):
    from billing.services import billing_reconcile

    Tenant.objects.filter(pk=subscribed.pk).update(closed_at=timezone.now(), status="cancelled")  # no job ran
    billing_reconcile()
    assert fake_stripe.objects["sub_test1"]["cancel_at_period_end"] is True
