"""Payment emails: a receipt per paid invoice, a payment-failed notice per failed attempt with the payment
link and the suspension date, suspended/reactivated notices; each exactly once."""

from datetime import timedelta

import pytest
from django.core import mail

from notifications.models import EmailLog
from tests.support.queue import jobs_run
from tests.support.stripe_events import event, invoice, subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


@pytest.fixture
def cus(acme, customer_of, priced_plans):
    return customer_of(acme)


def test_a_paid_invoice_gets_one_receipt_with_amount_period_and_link(acme, cus, deliver):
    paid = invoice(cus, status="paid")
    paid["lines"] = {"data": [{"period": {"start": 1_767_225_600, "end": 1_769_904_000}}]}  # 1 Jan - 1 Feb 2026
    deliver(event("invoice.paid", paid))
    deliver(event("invoice.paid", paid))  # Stripe sends it again under a new event id
    jobs_run()
    receipts = [m for m in mail.outbox if m.tags == ["payment_succeeded"]]
    assert len(receipts) == 1
    receipt = receipts[0]
    assert receipt.to == ["owner@acme.test"] and "49.00 USD" in receipt.subject
    assert "1 January 2026 to 1 February 2026" in receipt.body
    assert "https://invoice.stripe.com/i/in_test1" in receipt.body


def test_receipts_go_to_the_billing_contact(acme, cus, deliver):
    acme.billing_email = "pay@acme.test"
    acme.save()
    deliver(event("invoice.paid", invoice(cus, status="paid", inv_id="in_b")))
    jobs_run()
    assert [m.to for m in mail.outbox] == [["pay@acme.test"]]


def test_a_zero_amount_invoice_gets_no_receipt(acme, cus, deliver):
    deliver(event("invoice.paid", invoice(cus, status="paid", amount=0)))
    jobs_run()
    assert mail.outbox == []


def test_payment_failed_names_the_payment_link_and_the_suspension_date_once_per_attempt(acme, cus, deliver, settings):
    settings.BILLING_GRACE_DAYS = 3
    deliver(event("customer.subscription.created", subscription(cus)))
    failed = invoice(cus, attempt=1)
    deliver(event("invoice.payment_failed", failed))
    deliver(event("invoice.payment_failed", failed))  # the same attempt reported twice
    jobs_run()
    notices = [m for m in mail.outbox if m.tags == ["payment_failed"]]
    assert len(notices) == 1
    body = notices[0].body
    assert "https://invoice.stripe.com/i/in_test1" in body and "Please pay by" in body
    account = acme.billing
    account.refresh_from_db()
    assert f"{account.payment_failed_at + timedelta(days=3):%-d %B %Y}" in body
    deliver(event("invoice.payment_failed", invoice(cus, attempt=2)))  # Stripe's next retry fails too
    jobs_run()
    assert len([m for m in mail.outbox if m.tags == ["payment_failed"]]) == 2


def test_a_payment_failed_email_still_queued_when_the_invoice_is_paid_is_not_sent(acme, cus, deliver):
    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("invoice.payment_failed", invoice(cus)))
    deliver(event("invoice.paid", invoice(cus, status="paid")))
    jobs_run()
    assert [m.tags for m in mail.outbox] == [["payment_succeeded"]]
    assert EmailLog.objects.get(kind="payment_failed").status == "skipped"


def test_suspension_and_reactivation_are_announced_to_the_owner(acme):
    from tenants import services

    services.tenant_suspend(tenant=acme, actor="op@example.com")
    services.tenant_suspend(tenant=acme, actor="op@example.com")  # already suspended: no second email
    services.tenant_activate(tenant=acme, actor="op@example.com")
    jobs_run()
    assert [(m.tags, m.to) for m in mail.outbox] == [
        (["workspace_suspended"], ["owner@acme.test"]),
        (["workspace_reactivated"], ["owner@acme.test"]),
    ]
    assert "Write to support@example.com" in mail.outbox[0].body


def test_a_failed_retry_while_suspended_for_non_payment_keeps_it_suspended_and_quiet(acme, cus, deliver):
    from django.utils import timezone

    from billing.models import Invoice
    from tenants.models import Tenant

    deliver(event("customer.subscription.created", subscription(cus)))
    deliver(event("invoice.payment_failed", invoice(cus, attempt=1)))
    Invoice.objects.filter(stripe_id="in_test1").update(first_failed_at=timezone.now() - timedelta(days=30))
    from billing.services import grace_enforce_all

    grace_enforce_all()
    acme.refresh_from_db()
    assert (acme.status, acme.suspended_by) == ("suspended", "billing")
    jobs_run()
    mail.outbox.clear()
    deliver(event("invoice.payment_failed", invoice(cus, attempt=2)))  # Stripe's next retry fails too
    jobs_run()
    assert Tenant.objects.get(pk=acme.pk).status == "suspended"
    assert [m.tags for m in mail.outbox] == [["payment_failed"]]  # no "reactivated", no second "suspended"
