"""Workspace status follows Stripe through signed webhooks (the seed's section 12), end to end."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from djstripe.models import WebhookEventTrigger

from billing.fake_stripe import sign
from billing.models import BillingAccount, BillingEvent, Invoice
from core.models import AuditEvent
from tenants import services as tenant_services
from tenants.models import Tenant
from tests.support.clients import host_client, logged_in_client, workspace_client
from tests.support.queue import outbox
from tests.support.stripe_events import event, invoice, subscription
from tests.support.workspaces import add_member

pytestmark = pytest.mark.django_db


def status(tenant) -> str:
    tenant.refresh_from_db()
    return tenant.status


def test_subscription_created_sets_plan_and_status(acme, cus, deliver):
    response = deliver(
        event("customer.subscription.created", subscription(cus, status="active", price="price_growth_month"))
    )
    assert response.status_code == 200
    acme.refresh_from_db()
    assert (acme.status, acme.plan) == ("active", "growth")
    account = BillingAccount.objects.get(tenant=acme)
    assert (account.stripe_subscription_id, account.subscription_status, account.interval) == (
        "sub_test1",
        "active",
        "month",
    )
    assert AuditEvent.objects.filter(tenant=acme, action="billing.subscription_changed", actor="stripe").exists()
    [record] = BillingEvent.objects.all()
    assert record.tenant == acme and record.result.startswith("applied")


def test_subscription_updates_follow_trialing_active_past_due(acme, cus, deliver):
    t = int(time.time())
    for offset, stripe_status, expected in [
        (0, "trialing", "trialing"),
        (10, "active", "active"),
        (20, "past_due", "past_due"),
    ]:
        deliver(event("customer.subscription.updated", subscription(cus, status=stripe_status), created=t + offset))
        assert status(acme) == expected


def test_payment_failure_makes_past_due_emails_the_owner_and_suspends_after_the_grace(
    acme, cus, deliver, settings, django_capture_on_commit_callbacks
):
    settings.BILLING_GRACE_DAYS = 3
    deliver(event("customer.subscription.created", subscription(cus)))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(event("invoice.payment_failed", invoice(cus)))
    assert status(acme) == "past_due"
    email = outbox()[-1]
    assert email.to == ["owner@acme.test"] and "Payment failed" in email.subject
    assert "49.00 USD" in email.body and "http://acme.localhost/billing/" in email.body
    assert logged_in_client(acme).get("/").status_code == 200  # still working during the grace period

    call_command("enforce_billing")
    assert status(acme) == "past_due"
    Invoice.objects.filter(stripe_id="in_test1").update(first_failed_at=timezone.now() - timedelta(days=3, minutes=1))
    call_command("enforce_billing")
    acme.refresh_from_db()
    assert (acme.status, acme.suspended_by) == ("suspended", "billing")
    assert logged_in_client(acme).get("/").status_code == 403  # suspended (the owner may still pay: test_access)

    deliver(event("invoice.paid", invoice(cus, status="paid"), created=int(time.time()) + 5))
    acme.refresh_from_db()
    assert (acme.status, acme.suspended_by) == ("active", "")
    assert BillingAccount.objects.get(tenant=acme).payment_failed_at is None
    actions = list(AuditEvent.objects.filter(tenant=acme).order_by("pk").values_list("action", flat=True))
    assert actions[-3:] == ["billing.payment_failed", "billing.suspended_unpaid", "billing.invoice_paid"]


def test_zero_grace_days_suspends_at_once(acme, cus, deliver, settings):
    settings.BILLING_GRACE_DAYS = 0
    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("invoice.payment_failed", invoice(cus)))
    acme.refresh_from_db()
    assert (acme.status, acme.suspended_by) == ("suspended", "billing")


def test_paying_never_lifts_an_operators_suspension(acme, cus, deliver, settings):
    settings.BILLING_GRACE_DAYS = 0
    tenant_services.tenant_suspend(tenant=acme, actor="op@example.com", reason="abuse")
    deliver(event("invoice.payment_failed", invoice(cus)))
    deliver(event("invoice.paid", invoice(cus, status="paid"), created=int(time.time()) + 5))
    deliver(event("customer.subscription.updated", subscription(cus, status="active"), created=int(time.time()) + 6))
    acme.refresh_from_db()
    assert (acme.status, acme.suspended_by) == ("suspended", "operator")


def test_subscription_deleted_cancels_and_stops_the_workspace_except_billing(acme, cus, deliver):
    add_member(acme, "mia@acme.test")
    Tenant.objects.filter(pk=acme.pk).update(trial_ends_at=timezone.now() - timedelta(days=1))  # no trial left
    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("customer.subscription.deleted", subscription(cus, status="canceled"), created=int(time.time()) + 5))
    assert status(acme) == "cancelled"
    assert AuditEvent.objects.filter(tenant=acme, action="billing.subscription_cancelled").exists()
    member = logged_in_client(acme, "mia@acme.test")
    assert member.get("/").status_code == 402
    owner = logged_in_client(acme)
    assert owner.get("/").status_code == 402
    assert owner.get("/team/").status_code == 402
    page = owner.get("/billing/")
    assert page.status_code == 200 and "subscription has ended" in page.content.decode()


def test_a_trial_that_ends_without_a_subscription_stops_the_workspace_except_billing(acme):
    add_member(acme, "mia@acme.test")
    Tenant.objects.filter(pk=acme.pk).update(trial_ends_at=timezone.now() - timedelta(minutes=1))
    member = logged_in_client(acme, "mia@acme.test")
    response = member.get("/")
    assert response.status_code == 402 and "free trial has ended" in response.content.decode()
    owner = logged_in_client(acme)
    assert owner.get("/billing/").status_code == 200
    assert owner.get("/team/").status_code == 402
    assert owner.get("/settings/").status_code == 200  # to export the data or close the workspace
    assert workspace_client(acme).get("/terms/").status_code == 200


def test_comped_workspaces_are_never_stopped_for_payment(acme, priced_plans):
    from billing.services import plan_comp

    Tenant.objects.filter(pk=acme.pk).update(trial_ends_at=timezone.now() - timedelta(days=1))
    acme.refresh_from_db()
    plan_comp(tenant=acme, plan=priced_plans["scale"], actor="op@example.com")
    acme.refresh_from_db()
    assert (acme.status, acme.plan) == ("active", "scale")
    assert logged_in_client(acme).get("/").status_code == 200
    assert AuditEvent.objects.filter(tenant=acme, action="billing.comped").exists()


def test_duplicate_delivery_is_applied_once(acme, cus, deliver, django_capture_on_commit_callbacks):
    deliver(event("customer.subscription.created", subscription(cus)))
    failed = event("invoice.payment_failed", invoice(cus))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(failed).status_code == 200
        assert deliver(failed).status_code == 200
    assert BillingEvent.objects.filter(stripe_id=failed["id"]).count() == 1
    assert WebhookEventTrigger.objects.count() == 3
    assert len(outbox()) == 1
    assert AuditEvent.objects.filter(tenant=acme, action="billing.payment_failed").count() == 1


@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_out_of_order_delivery_ends_in_the_in_order_state(acme, cus, deliver, order, settings, fake_stripe):
    settings.BILLING_GRACE_DAYS = 0
    t = int(time.time())
    events = [
        event("customer.subscription.created", subscription(cus, status="active"), created=t),
        event("invoice.payment_failed", invoice(cus), created=t + 10),
        event("customer.subscription.updated", subscription(cus, status="past_due"), created=t + 11),
        event("invoice.paid", invoice(cus, status="paid"), created=t + 20),
        event(
            "customer.subscription.updated",
            subscription(cus, status="active", price="price_scale_month"),
            created=t + 21,
        ),
    ]
    fake_stripe.put(events[-1]["data"]["object"])  # Stripe's state once everything happened
    fake_stripe.put(events[3]["data"]["object"])
    for e in events if order == "in order" else reversed(events):
        assert deliver(e, current=False).status_code == 200
    acme.refresh_from_db()
    assert (acme.status, acme.suspended_by, acme.plan) == ("active", "", "scale")
    account = BillingAccount.objects.get(tenant=acme)
    assert account.payment_failed_at is None and account.subscription_status == "active"
    assert Invoice.objects.get(stripe_id="in_test1").status == "paid"


def test_bad_signatures_are_400_and_change_nothing(acme, cus, deliver):
    created = event("customer.subscription.created", subscription(cus))
    replayed = sign(json.dumps(created), "whsec_test_secret", timestamp=int(time.time()) - 3600)
    assert deliver(created, secret="whsec_wrong").status_code == 400
    assert deliver(created, signature="t=1,v1=deadbeef").status_code == 400
    assert deliver(created, signature=replayed).status_code == 400  # outside Stripe's 5-minute tolerance
    assert deliver(created, signature="").status_code == 400
    assert status(acme) == "trialing"
    assert not BillingEvent.objects.exists()
    assert WebhookEventTrigger.objects.filter(valid=False).count() == 3  # the unsigned one is not even stored


def test_debug_mode_does_not_let_a_header_replace_the_secret(acme, cus, endpoint, settings):
    """dj-stripe's own view accepts X-Djstripe-Webhook-Secret when DEBUG is on; ours never does."""
    settings.DEBUG = True
    payload = json.dumps(event("customer.subscription.created", subscription(cus)))
    response = host_client(settings.BASE_DOMAIN).post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, "attacker-chosen"),
        HTTP_X_DJSTRIPE_WEBHOOK_SECRET="attacker-chosen",
    )
    assert response.status_code == 400
    assert status(acme) == "trialing"


def test_unknown_endpoint_is_404(acme, settings):
    response = host_client(settings.BASE_DOMAIN).post(
        f"/stripe/webhook/{uuid.uuid4()}/", data="{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=x"
    )
    assert response.status_code == 404


def test_unknown_event_types_are_accepted_and_ignored(acme, cus, deliver):
    response = deliver(event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id", "customer": cus}))
    assert response.status_code == 200
    assert BillingEvent.objects.get().result.startswith("ignored")
    assert status(acme) == "trialing"


def test_an_event_for_a_deleted_workspace_is_accepted_and_changes_nothing(acme, cus, deliver, make_workspace):
    other = make_workspace("other")
    acme_pk = acme.pk
    tenant_services.tenant_close(tenant=acme, actor="owner")
    Tenant.objects.filter(pk=acme_pk).update(closed_at=timezone.now() - timedelta(days=365))
    tenant_services.tenants_purge_due()
    response = deliver(event("invoice.payment_failed", invoice(cus)))
    assert response.status_code == 200
    assert BillingEvent.objects.get().result == "ignored: no workspace has this customer"
    assert status(other) == "trialing"


def test_an_object_naming_another_workspace_changes_neither(acme, cus, deliver, make_workspace, customer_of):
    other = make_workspace("other")
    customer_of(other, "cus_other")
    forged = subscription(cus, status="canceled")
    forged["metadata"] = {"tenant_id": str(other.pk)}
    deliver(event("customer.subscription.deleted", forged))
    assert status(acme) == "trialing" and status(other) == "trialing"
    assert "another workspace" in BillingEvent.objects.get().result


def test_webhooks_only_exist_on_the_public_host(acme, deliver, endpoint):
    response = workspace_client(acme).post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/", data="{}", content_type="application/json"
    )
    assert response.status_code == 404


def test_an_event_of_the_other_mode_changes_nothing(acme, cus, deliver):
    live = event("customer.subscription.created", subscription(cus))
    live["livemode"] = True  # a live-mode event reaching a test-mode site (STRIPE_LIVE_MODE=false)
    assert deliver(live).status_code == 200
    assert status(acme) == "trialing"
    assert "live-mode event" in BillingEvent.objects.get().result
