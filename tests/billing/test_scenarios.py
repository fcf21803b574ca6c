"""The billing issue's numbered scenarios: Stripe-shaped events through the signed webhook view, with the
fake Stripe answering what the objects look like now. Each failed before the read-back model."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import BillingAccount, Invoice
from tenants.models import Tenant
from tests.support.clients import logged_in_client
from tests.support.queue import jobs_run
from tests.support.stripe_events import event, invoice, subscription

pytestmark = pytest.mark.django_db


def trial_over(tenant) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(trial_ends_at=timezone.now() - timedelta(days=1))


def state(tenant) -> tuple[str, str]:
    tenant.refresh_from_db()
    return tenant.status, tenant.suspended_by


def test_2_a_second_subscription_does_not_decide_while_the_first_is_live(acme, cus, deliver):
    trial_over(acme)
    t = int(time.time())
    sub_a = subscription(cus, sub_id="sub_A", created=t - 100)
    sub_b = subscription(cus, sub_id="sub_B", created=t - 50)
    deliver(event("customer.subscription.created", sub_a))
    deliver(event("customer.subscription.created", sub_b))
    deliver(event("customer.subscription.deleted", {**sub_a, "status": "canceled"}))
    assert state(acme) == ("active", "")  # it follows sub_B, still live
    assert BillingAccount.objects.get(tenant=acme).stripe_subscription_id == "sub_B"
    deliver(event("customer.subscription.deleted", {**sub_b, "status": "canceled"}))
    assert state(acme) == ("cancelled", "")


def test_3_paying_the_invoice_of_a_dead_subscription_does_not_reactivate(acme, cus, deliver, settings):
    settings.BILLING_GRACE_DAYS = 0
    trial_over(acme)
    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("invoice.payment_failed", invoice(cus)))
    assert state(acme) == ("suspended", "billing")
    deliver(event("customer.subscription.deleted", subscription(cus, status="canceled")))
    deliver(event("invoice.paid", invoice(cus, status="paid")))
    assert state(acme) == ("cancelled", "")  # billing-only access: choose a plan again
    assert logged_in_client(acme).get("/").status_code == 402


@pytest.mark.parametrize("order", ["failed first", "paid first"])
def test_4_failures_are_tracked_per_invoice(acme, cus, deliver, order):
    deliver(event("customer.subscription.created", subscription(cus)))
    failed_a = event("invoice.payment_failed", invoice(cus, inv_id="in_A"))
    paid_b = event("invoice.paid", invoice(cus, inv_id="in_B", status="paid"))
    for e in (failed_a, paid_b) if order == "failed first" else (paid_b, failed_a):
        deliver(e)
    assert state(acme) == ("past_due", "")  # in_A is still unpaid, whatever in_B did
    account = BillingAccount.objects.get(tenant=acme)
    assert account.payment_failed_at == Invoice.objects.get(stripe_id="in_A").first_failed_at
    deliver(event("invoice.paid", invoice(cus, inv_id="in_A", status="paid")))
    assert state(acme) == ("active", "")
    assert BillingAccount.objects.get(tenant=acme).payment_failed_at is None


def test_4_the_grace_clock_runs_from_the_oldest_unpaid_failure(acme, cus, deliver, settings):
    settings.BILLING_GRACE_DAYS = 3
    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("invoice.payment_failed", invoice(cus, inv_id="in_old")))
    deliver(event("invoice.payment_failed", invoice(cus, inv_id="in_new")))
    Invoice.objects.filter(stripe_id="in_old").update(first_failed_at=timezone.now() - timedelta(days=4))
    from billing.services import grace_enforce_all

    assert grace_enforce_all() == ["acme"]
    assert state(acme) == ("suspended", "billing")
    deliver(event("invoice.paid", invoice(cus, inv_id="in_old", status="paid")))
    assert state(acme) == ("past_due", "")  # in_new failed just now: its own grace period runs


@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_5_same_second_events_in_any_order_end_in_stripes_current_state(acme, cus, deliver, fake_stripe, order):
    trial_over(acme)
    t = int(time.time())
    created = event("customer.subscription.created", subscription(cus, status="incomplete"), created=t)
    updated = event("customer.subscription.updated", subscription(cus, status="active"), created=t)
    fake_stripe.put(updated["data"]["object"])  # what Stripe says now
    for e in (created, updated) if order == "in order" else (updated, created):
        assert deliver(e, current=False).status_code == 200
    assert state(acme) == ("active", "")
    assert BillingAccount.objects.get(tenant=acme).subscription_status == "active"


def test_5_when_stripe_cannot_be_reached_the_webhook_answers_503_and_applies_nothing(acme, cus, deliver, fake_stripe):
    fake_stripe.down = True
    response = deliver(event("customer.subscription.created", subscription(cus)))
    assert response.status_code == 503
    assert state(acme) == ("trialing", "")
    from billing.models import BillingEvent

    assert not BillingEvent.objects.exists()  # Stripe's retry will be applied in full
    fake_stripe.down = False
    assert deliver(event("customer.subscription.created", subscription(cus))).status_code == 200
    assert state(acme) == ("active", "")


def test_6_a_late_failure_after_cancellation_does_not_restore_access(acme, cus, deliver):
    trial_over(acme)
    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("customer.subscription.deleted", subscription(cus, status="canceled")))
    deliver(event("invoice.payment_failed", invoice(cus)))
    assert state(acme) == ("cancelled", "")


def test_7_an_expired_first_payment_during_the_local_trial_keeps_the_trial(acme, cus, deliver):
    deliver(event("customer.subscription.created", subscription(cus, status="incomplete")))
    deliver(event("customer.subscription.updated", subscription(cus, status="incomplete_expired")))
    assert state(acme) == ("trialing", "")
    assert logged_in_client(acme).get("/").status_code == 200


def test_9_a_comp_holds_until_an_operator_lifts_it(acme, cus, deliver, priced_plans):
    from billing.services import plan_comp, plan_comp_lift

    plan_comp(tenant=acme, plan=priced_plans["scale"], actor="op@example.com")
    deliver(event("customer.subscription.updated", subscription(cus, status="past_due", price="price_starter_month")))
    acme.refresh_from_db()
    assert (acme.status, acme.plan) == ("active", "scale")
    trial_over(acme)
    plan_comp_lift(tenant=acme, actor="op@example.com")
    assert state(acme) == ("past_due", "")  # now it follows Stripe again


def test_9_operators_lift_a_comp_from_the_admin(acme, cus, deliver, priced_plans, operator_client):
    from billing.models import BillingAccount
    from billing.services import plan_comp

    plan_comp(tenant=acme, plan=priced_plans["scale"], actor="op@example.com")
    response = operator_client.post(
        "/admin/tenants/tenant/", {"action": "comp_lift", "_selected_action": [acme.pk], "index": 0}
    )
    assert response.status_code == 302
    assert BillingAccount.objects.get(tenant=acme).comped is False


def test_payment_action_required_emails_the_payment_link_once(acme, cus, deliver):
    deliver(event("customer.subscription.created", subscription(cus)))
    needs_action = invoice(cus, inv_id="in_sca")
    deliver(event("invoice.payment_action_required", needs_action))
    deliver(event("invoice.payment_action_required", needs_action))
    jobs_run()
    emails = [m for m in mail.outbox if m.tags == ["payment_action_required"]]
    assert len(emails) == 1 and "https://invoice.stripe.com/i/in_sca" in emails[0].body


def test_1_a_subscribed_owner_cannot_start_a_second_subscription(acme, cus, deliver, fake_stripe):
    deliver(event("customer.subscription.created", subscription(cus, price="price_growth_month")))
    owner = logged_in_client(acme)
    page = owner.get("/billing/").content.decode()
    assert "Change plan" in page and "Choose plan (monthly)" not in page
    response = owner.post("/billing/checkout/", {"plan": "scale", "interval": "month"}, follow=True)
    assert "already have a subscription" in response.content.decode()
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []  # no second subscription, whatever is posted
    change = owner.post("/billing/portal/", {"flow": "change_plan", "attempt": "a1"})
    assert change["Location"].startswith("https://billing.stripe.com/")
    [portal] = fake_stripe.calls("POST", "/v1/billing_portal/sessions")
    assert portal["params"]["flow_data[type]"] == "subscription_update"
    assert portal["params"]["flow_data[subscription_update][subscription]"] == "sub_test1"


def test_1_checkout_is_refused_even_when_our_mirror_missed_the_subscription(acme, cus, fake_stripe):
    fake_stripe.put(subscription(cus, status="active"))  # Stripe knows it; no webhook reached us yet
    response = logged_in_client(acme).post("/billing/checkout/", {"plan": "scale", "interval": "month"}, follow=True)
    assert "already have a subscription" in response.content.decode()
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []


def test_11_checkout_keeps_the_remaining_trial(acme, cus, fake_stripe):
    acme.refresh_from_db()
    logged_in_client(acme).post("/billing/checkout/", {"plan": "growth", "interval": "month"})
    [checkout] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert checkout["params"]["subscription_data[trial_end]"] == str(int(acme.trial_ends_at.timestamp()))


def test_11_with_less_than_two_days_left_the_first_charge_is_at_once(acme, cus, fake_stripe):
    Tenant.objects.filter(pk=acme.pk).update(trial_ends_at=timezone.now() + timedelta(hours=30))
    logged_in_client(acme).post("/billing/checkout/", {"plan": "growth", "interval": "month"})
    [checkout] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert "subscription_data[trial_end]" not in checkout["params"]  # Stripe needs 48 hours ahead


def test_reconcile_fixes_what_the_webhooks_missed(acme, cus, deliver, fake_stripe, make_workspace, customer_of, capsys):
    from django.core.management import call_command

    trial_over(acme)
    deliver(event("customer.subscription.created", subscription(cus)))
    assert state(acme) == ("active", "")
    fake_stripe.put(subscription(cus, status="canceled"))  # cancelled in Stripe; the webhook never arrived
    quiet = make_workspace("quiet")
    customer_of(quiet, "cus_quiet")  # a customer with no subscription: nothing to change
    call_command("billing_reconcile")
    assert state(acme) == ("cancelled", "")
    output = capsys.readouterr().out
    assert "acme: ('active'" in output and "'cancelled'" in output and "quiet" not in output
    call_command("billing_reconcile")
    assert "0 workspace(s) changed" in capsys.readouterr().out


def test_dj_stripe_mirrors_the_customer_subscription_and_invoices_shown_in_the_admin(
    acme, cus, deliver, operator_client
):
    from djstripe import models as djstripe_models

    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("invoice.paid", invoice(cus, status="paid")))
    customer = djstripe_models.Customer.objects.get(id="cus_acme")
    assert customer.subscriber == acme
    assert djstripe_models.Subscription.objects.get(id="sub_test1").customer == customer
    assert djstripe_models.Invoice.objects.get(id="in_test1").customer == customer
    assert djstripe_models.Price.objects.filter(id="price_growth_month").exists()

    page = operator_client.get(f"/admin/tenants/tenant/{acme.pk}/change/").content.decode()
    assert "/admin/djstripe/subscription/?customer__id=cus_acme" in page
    for path in ("customer", "subscription", "invoice", "price", "product"):
        listing = operator_client.get(f"/admin/djstripe/{path}/")
        assert listing.status_code == 200, path
    detail = operator_client.get(
        f"/admin/djstripe/subscription/{djstripe_models.Subscription.objects.get().pk}/change/"
    )
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()  # read-only
    subs = operator_client.get("/admin/djstripe/subscription/?customer__id=cus_acme").content.decode()
    assert "sub_test1" in subs


def test_lifting_an_operators_suspension_restores_what_the_subscription_gives(acme, cus, deliver):
    from tenants import services as tenant_services

    trial_over(acme)
    deliver(event("customer.subscription.created", subscription(cus)))
    tenant_services.tenant_suspend(tenant=acme, actor="op@example.com")
    tenant_services.tenant_activate(tenant=acme, actor="op@example.com")
    assert state(acme) == ("trialing", "")  # never active for free in between
    jobs_run()
    assert state(acme) == ("active", "")


def test_reopening_a_closed_unpaid_workspace_does_not_give_it_away(acme, cus):
    from billing.selectors import payment_required
    from tenants import services as tenant_services

    trial_over(acme)
    tenant_services.tenant_close(tenant=acme, actor="owner@acme.test")
    tenant_services.tenant_reopen(tenant=acme, actor="op@example.com")
    jobs_run()
    acme.refresh_from_db()
    assert acme.status == "trialing" and payment_required(acme)


def test_a_dj_stripe_mirror_failure_never_blocks_the_workspace_state(acme, cus, deliver, monkeypatch):
    from djstripe import models as djstripe_models

    def broken(*args, **kwargs):
        raise AttributeError("'str' object has no attribute 'get'")  # as dj-stripe does on some payloads

    monkeypatch.setattr(djstripe_models.Subscription, "sync_from_stripe_data", broken)
    trial_over(acme)
    assert deliver(event("customer.subscription.created", subscription(cus))).status_code == 200
    assert state(acme) == ("active", "")


def test_a_missed_payment_failure_still_starts_the_grace_clock(acme, cus, deliver, fake_stripe):
    trial_over(acme)
    deliver(event("customer.subscription.created", subscription(cus)))
    unpaid = invoice(cus, inv_id="in_missed")
    fake_stripe.put(unpaid)
    fake_stripe.put({**subscription(cus, status="past_due"), "latest_invoice": "in_missed"})
    deliver(event("customer.subscription.updated", subscription(cus, status="past_due")), current=False)
    assert state(acme) == ("past_due", "")
    assert BillingAccount.objects.get(tenant=acme).payment_failed_at is not None


def test_a_voided_invoice_stops_its_grace_clock(acme, cus, deliver):
    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("invoice.payment_failed", invoice(cus)))
    assert state(acme) == ("past_due", "")
    deliver(event("invoice.voided", invoice(cus, status="void")))
    assert state(acme) == ("active", "")


def test_a_read_back_stripe_refuses_is_recorded_not_retried_forever(acme, cus, deliver, fake_stripe):
    from billing.models import BillingEvent

    response = deliver(event("invoice.paid", invoice(cus, inv_id="in_gone")), current=False)  # unknown to Stripe
    assert response.status_code == 200
    assert not BillingEvent.objects.exists()  # nothing applied; the delivery keeps the error for operators
    from djstripe.models import WebhookEventTrigger

    assert "No such object" in WebhookEventTrigger.objects.get().exception
