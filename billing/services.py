"""Workspace billing state, driven by Stripe events. Each function applies one kind of event and is
order-proof: an event older than the last one applied for the same stream (subscription, invoices)
changes nothing, so duplicates and late arrivals end in the state of an in-order delivery."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import BillingAccount, Invoice, Plan
from notifications.services import email_queue, notice_claim
from tenants import services as tenant_services
from tenants.models import Tenant

STRIPE_TO_STATUS = {
    "trialing": Tenant.Status.TRIALING,
    "active": Tenant.Status.ACTIVE,
    "past_due": Tenant.Status.PAST_DUE,
    "unpaid": Tenant.Status.PAST_DUE,
    "canceled": Tenant.Status.CANCELLED,
    "incomplete_expired": Tenant.Status.CANCELLED,
}


def account_for(tenant: Tenant) -> BillingAccount:
    account, _ = BillingAccount.objects.get_or_create(tenant=tenant)
    return account


def _locked_account(tenant: Tenant) -> BillingAccount:
    account_for(tenant)
    return BillingAccount.objects.select_for_update().select_related("tenant").get(tenant=tenant)


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _is_stale(last_applied: datetime | None, event_created: datetime) -> bool:
    return last_applied is not None and event_created < last_applied


@transaction.atomic
def subscription_apply(*, tenant: Tenant, subscription: dict, event_created: datetime) -> str:
    """customer.subscription.created / updated / deleted: plan and status follow the subscription."""
    account = _locked_account(tenant)
    if _is_stale(account.subscription_event_at, event_created):
        return "ignored: older than the subscription state already applied"
    item = (subscription.get("items") or {}).get("data", [{}])[0]
    price = item.get("price") or {}
    plan = Plan.for_price_id(price.get("id", ""))
    account.stripe_subscription_id = subscription["id"]
    account.subscription_status = subscription["status"]
    account.interval = (price.get("recurring") or {}).get("interval", "")
    account.current_period_end = _ts(subscription.get("current_period_end") or item.get("current_period_end"))
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    account.subscription_event_at = event_created
    account.save()

    changed = []
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    updates = []
    if plan is not None and locked.plan != plan.slug:
        locked.plan = plan.slug
        updates.append("plan")
        changed.append(f"plan {plan.slug}")
    trial_end = _ts(subscription.get("trial_end"))
    if subscription["status"] == "trialing" and trial_end:
        locked.trial_ends_at = trial_end
        updates.append("trial_ends_at")
    if updates:
        locked.save(update_fields=[*updates, "updated_at"])
    status = STRIPE_TO_STATUS.get(subscription["status"])
    if status is not None and locked.status != Tenant.Status.SUSPENDED:
        updated = tenant_services.tenant_billing_status_set(
            tenant=locked,
            status=status,
            action="billing.subscription_cancelled"
            if status == Tenant.Status.CANCELLED
            else "billing.subscription_changed",
            details={"subscription": subscription["id"], "stripe_status": subscription["status"], "plan": locked.plan},
        )
        if updated.status != locked.status:
            changed.append(f"status {updated.status}")
    return "applied: " + (", ".join(changed) or "no change")


def _invoice_record(tenant: Tenant, invoice: dict, *, stale: bool) -> None:
    """Keep the invoice for the Billing page; a late (stale) event may add an unknown invoice but never
    overwrite what a newer event said."""
    write = Invoice.objects.get_or_create if stale else Invoice.objects.update_or_create
    write(
        stripe_id=invoice["id"],
        defaults={
            "tenant": tenant,
            "number": invoice.get("number") or "",
            "status": invoice.get("status") or "",
            "amount_due": invoice.get("amount_due") or 0,
            "amount_paid": invoice.get("amount_paid") or 0,
            "currency": invoice.get("currency") or "usd",
            "created": _ts(invoice.get("created")) or timezone.now(),
            "hosted_invoice_url": invoice.get("hosted_invoice_url") or "",
        },
    )


@transaction.atomic
def invoice_payment_failed(*, tenant: Tenant, invoice: dict, event_created: datetime) -> str:
    """Past due at once, an email to the owner, and suspended once the grace period is over."""
    account = _locked_account(tenant)
    stale = _is_stale(account.invoice_event_at, event_created)
    _invoice_record(tenant, invoice, stale=stale)
    if stale:
        return "ignored: older than the invoice state already applied"
    account.invoice_event_at = event_created
    account.payment_failed_at = account.payment_failed_at or event_created
    account.save(update_fields=["invoice_event_at", "payment_failed_at"])
    tenant_services.tenant_billing_status_set(
        tenant=tenant,
        status=Tenant.Status.PAST_DUE,
        action="billing.payment_failed",
        details={
            "invoice": invoice["id"],
            "amount_due": invoice.get("amount_due"),
            "attempt": invoice.get("attempt_count"),
        },
    )
    occasion = f"{invoice['id']}:{invoice.get('attempt_count') or 0}"
    if notice_claim(tenant_id=tenant.pk, kind="payment_failed", occasion=occasion):
        email_queue(kind="payment_failed", to=tenant.email, tenant=tenant, params={"invoice": invoice["id"]})
    suspended = grace_enforce(tenant=tenant)
    return "applied: past due" + (", suspended" if suspended else "")


@transaction.atomic
def invoice_paid(*, tenant: Tenant, invoice: dict, event_created: datetime) -> str:
    """Paying makes a past-due workspace active again and lifts a suspension non-payment caused (an
    operator's suspension stays)."""
    account = _locked_account(tenant)
    stale = _is_stale(account.invoice_event_at, event_created)
    _invoice_record(tenant, invoice, stale=stale)
    _receipt_queue(tenant, invoice)
    if stale:
        return "ignored: older than the invoice state already applied"
    account.invoice_event_at = event_created
    account.payment_failed_at = None
    account.save(update_fields=["invoice_event_at", "payment_failed_at"])
    current = Tenant.objects.get(pk=tenant.pk)
    unpaid = current.status == Tenant.Status.PAST_DUE or current.suspended_by == Tenant.SuspendedBy.BILLING
    if not unpaid:
        return "applied: invoice recorded"
    tenant_services.tenant_billing_status_set(
        tenant=current, status=Tenant.Status.ACTIVE, action="billing.invoice_paid", details={"invoice": invoice["id"]}
    )
    return "applied: active"


def _receipt_queue(tenant: Tenant, invoice: dict) -> None:
    """One receipt per paid invoice (not for zero-amount invoices, such as a Stripe trial's first)."""
    if not invoice.get("amount_paid") or not notice_claim(tenant_id=tenant.pk, kind="receipt", occasion=invoice["id"]):
        return
    lines = (invoice.get("lines") or {}).get("data") or [{}]
    period = lines[0].get("period") or {"start": invoice.get("period_start"), "end": invoice.get("period_end")}
    params = {
        "invoice": invoice["id"],
        "period": [
            _ts(period.get("start")).isoformat() if period.get("start") else None,
            _ts(period.get("end")).isoformat() if period.get("end") else None,
        ],
    }
    email_queue(kind="payment_succeeded", to=tenant.email, tenant=tenant, params=params)


def grace_enforce(*, tenant: Tenant, now: datetime | None = None) -> bool:
    """Suspend the workspace if its unpaid invoice first failed BILLING_GRACE_DAYS ago or more."""
    now = now or timezone.now()
    account = account_for(tenant)
    if account.payment_failed_at is None or account.comped:
        return False
    if now - account.payment_failed_at < timedelta(days=settings.BILLING_GRACE_DAYS):
        return False
    updated = tenant_services.tenant_billing_status_set(
        tenant=tenant,
        status=Tenant.Status.SUSPENDED,
        action="billing.suspended_unpaid",
        details={"payment_failed_at": account.payment_failed_at.isoformat(), "grace_days": settings.BILLING_GRACE_DAYS},
    )
    return updated.status == Tenant.Status.SUSPENDED


def grace_enforce_all(*, now: datetime | None = None) -> list[str]:
    """Every past-due workspace whose grace period is over (the worker, hourly; `manage.py enforce_billing`)."""
    suspended = []
    for account in BillingAccount.objects.filter(
        payment_failed_at__isnull=False, tenant__status=Tenant.Status.PAST_DUE
    ):
        if grace_enforce(tenant=account.tenant, now=now):
            suspended.append(account.tenant.subdomain)
    return suspended


@transaction.atomic
def plan_comp(*, tenant: Tenant, plan: Plan, actor: str, ip_address: str | None = None) -> Tenant:
    """An operator gives the workspace a plan for free: active, and never blocked for payment."""
    account = _locked_account(tenant)
    account.comped = True
    account.payment_failed_at = None
    account.save(update_fields=["comped", "payment_failed_at"])
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    previous = locked.plan
    locked.plan = plan.slug
    update = ["plan", "updated_at"]
    if not locked.is_closed and locked.suspended_by != Tenant.SuspendedBy.OPERATOR:
        locked.status, locked.suspended_by = Tenant.Status.ACTIVE, ""
        update += ["status", "suspended_by"]
    locked.save(update_fields=update)
    tenant_services.audit_record(
        tenant=locked,
        actor=actor,
        action="billing.comped",
        ip_address=ip_address,
        details={"from": previous, "to": plan.slug},
    )
    return locked
