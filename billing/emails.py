"""Emails about paying: trial reminders, trial ended, payment succeeded, payment failed."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from billing.models import BillingAccount, Invoice, money
from notifications.registry import EmailKind, EmailObsolete, register
from tenants.emails import sample_workspace, workspace_context
from tenants.models import Tenant, days_until


def _trial_context(email) -> dict:
    tenant = email.tenant
    ends_at = datetime.fromisoformat(email.params["trial_ends_at"])
    if tenant.status != Tenant.Status.TRIALING or tenant.is_closed or tenant.trial_ends_at != ends_at:
        raise EmailObsolete("the trial changed since this reminder was queued")
    return _trial_context_for(tenant, ends_at)


def _trial_context_for(tenant: Tenant, ends_at: datetime) -> dict:
    return {**workspace_context(tenant), "trial_ends_at": ends_at, "days_left": days_until(ends_at)}


def _unpaid_invoice(email) -> Invoice:
    """The invoice an email asks to pay, unless it was paid or voided since the email was queued."""
    invoice = Invoice.objects.filter(stripe_id=email.params["invoice"], tenant=email.tenant).first()
    if invoice is None or invoice.status in Invoice.UNPAID_DONE:
        raise EmailObsolete("the invoice was paid or voided since")
    return invoice


def _payment_failed(email) -> dict:
    invoice = _unpaid_invoice(email)
    account = BillingAccount.objects.filter(tenant=email.tenant).first()
    failed_at = account.payment_failed_at if account else None
    suspend_on = failed_at + timedelta(days=settings.BILLING_GRACE_DAYS) if failed_at else None
    return {
        **workspace_context(email.tenant),
        "amount": money(invoice.amount_due, invoice.currency),
        "pay_url": invoice.hosted_invoice_url,
        "suspend_on": suspend_on,
    }


def _payment_action_required(email) -> dict:
    invoice = _unpaid_invoice(email)
    return {
        **workspace_context(email.tenant),
        "amount": money(invoice.amount_due, invoice.currency),
        "pay_url": invoice.hosted_invoice_url,
    }


def _payment_succeeded(email) -> dict:
    invoice = Invoice.objects.filter(stripe_id=email.params["invoice"], tenant=email.tenant).first()
    if invoice is None:
        raise EmailObsolete("the invoice is unknown")
    period = [datetime.fromisoformat(value) if value else None for value in email.params.get("period", [None, None])]
    return {
        **workspace_context(email.tenant),
        "amount": money(invoice.amount_paid, invoice.currency),
        "number": invoice.number or invoice.stripe_id,
        "period_start": period[0],
        "period_end": period[1],
        "invoice_url": invoice.hosted_invoice_url,
    }


def _now_plus(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


register(
    EmailKind(
        name="trial_ending",
        label="Trial ends soon (7, 3, 1 days)",
        essential=False,
        build=_trial_context,
        sample=lambda: _trial_context_for(sample_workspace(), _now_plus(3)),
    )
)
register(
    EmailKind(
        name="trial_ended",
        label="Trial ended",
        essential=False,
        build=_trial_context,
        sample=lambda: _trial_context_for(sample_workspace(), _now_plus(0)),
    )
)
register(
    EmailKind(
        name="payment_succeeded",
        label="Payment received",
        essential=False,
        build=_payment_succeeded,
        sample=lambda: {
            **workspace_context(sample_workspace()),
            "amount": money(4900, "usd"),
            "number": "SMITH-0001",
            "period_start": timezone.now(),
            "period_end": _now_plus(30),
            "invoice_url": "https://invoice.stripe.com/i/sample",
        },
    )
)
register(
    EmailKind(
        name="payment_failed",
        label="Payment failed",
        essential=True,
        build=_payment_failed,
        sample=lambda: {
            **workspace_context(sample_workspace()),
            "amount": money(4900, "usd"),
            "pay_url": "https://invoice.stripe.com/i/sample",
            "suspend_on": _now_plus(settings.BILLING_GRACE_DAYS),
        },
    )
)
register(
    EmailKind(
        name="payment_action_required",
        label="Payment needs the card holder's confirmation",
        essential=True,
        build=_payment_action_required,
        sample=lambda: {
            **workspace_context(sample_workspace()),
            "amount": money(4900, "usd"),
            "pay_url": "https://invoice.stripe.com/i/sample",
        },
    )
)
