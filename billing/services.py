"""Workspace billing state, mirrored from Stripe. Every subscription or invoice event makes us read the
customer's subscriptions (and the invoice) back from Stripe and mirror them; the workspace's status is then
recomputed from that mirror alone (`billing_status_recompute`), so duplicates, late arrivals and any
delivery order end in the same state.

How a workspace follows its current subscription (the customer's newest live one, else its newest):

| Stripe status | workspace status |
|---|---|
| trialing | trialing |
| active | active; past due while an invoice of it is unpaid, suspended BILLING_GRACE_DAYS after its first failure |
| past_due, unpaid | past due; suspended BILLING_GRACE_DAYS after the first failure of the oldest unpaid invoice |
| incomplete (first payment pending), none | trialing: the local trial decides (payment required once it is over) |
| incomplete_expired, canceled, paused | trialing while the local trial runs, else cancelled (payment required) |

A comp (an operator's) makes it active whatever Stripe says; closed workspaces and operators' suspensions
are never touched by billing.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from djstripe import models as djstripe_models

from billing import stripe_api
from billing.audit import BillingAction
from billing.models import BillingAccount, Invoice, Plan
from core.audit import audit_record
from notifications.services import email_queue, notice_claim
from tenants import services as tenant_services
from tenants.models import Tenant

logger = logging.getLogger(__name__)

LIVE = stripe_api.LIVE_STATUSES
ENDED = ("incomplete_expired", "canceled", "paused")


def account_for(tenant: Tenant) -> BillingAccount:
    account, _ = BillingAccount.objects.get_or_create(tenant=tenant)
    return account


def _locked_account(tenant: Tenant) -> BillingAccount:
    """Lock the workspace, then its billing account: the order every service that changes a workspace
    uses (tenants.services lock the Tenant row first too), so two of them never deadlock."""
    Tenant.objects.select_for_update().get(pk=tenant.pk)
    account_for(tenant)
    return BillingAccount.objects.select_for_update().select_related("tenant").get(tenant=tenant)


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def current_subscription(subscriptions: list[dict]) -> dict | None:
    """The one a workspace follows: the newest live subscription, else the newest of any status."""
    live = [sub for sub in subscriptions if sub.get("status") in LIVE]
    candidates = live or subscriptions
    return candidates[0] if candidates else None


def _subscription_record(account: BillingAccount, subscriptions: list[dict]) -> dict | None:
    """Record the current one of the customer's subscriptions (as just read from Stripe) on the account."""
    subscription = current_subscription(subscriptions)
    live = [sub["id"] for sub in subscriptions if sub.get("status") in LIVE]
    if len(live) > 1:
        logger.error("customer %s has %s live subscriptions: %s", account.stripe_customer_id, len(live), live)
        audit_record(
            tenant=account.tenant,
            actor="stripe",
            action=BillingAction.BILLING_DUPLICATE_SUBSCRIPTION,
            details={"live": live},
        )
    if subscription is None:
        return None
    item = (subscription.get("items") or {}).get("data", [{}])[0]
    price = item.get("price") or {}
    account.stripe_subscription_id = subscription["id"]
    account.subscription_status = subscription.get("status") or ""
    account.interval = (price.get("recurring") or {}).get("interval", "")
    account.current_period_end = _ts(subscription.get("current_period_end") or item.get("current_period_end"))
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    account.save()
    return subscription


def _djstripe_mirror(model, objects: list) -> None:
    """dj-stripe's copy (what the admin shows), best effort: our own records decide the workspace's state, so
    a failure here is logged and the nightly reconcile tries again; it never blocks a webhook."""
    for obj in objects:
        try:
            with transaction.atomic():
                stripe_api.djstripe_sync(model, obj)
        except Exception:
            logger.exception("dj-stripe could not mirror %s %s", model.__name__, obj.get("id"))


def _invoice_record(tenant: Tenant, data: dict, *, failed_at: datetime | None = None) -> Invoice:
    """Record an invoice as just read from Stripe; `failed_at` (a payment_failed event's time) starts its
    failure clock unless it is paid already or started before."""
    invoice, _ = Invoice.objects.update_or_create(
        stripe_id=data["id"],
        defaults={
            "tenant": tenant,
            "subscription_id": data.get("subscription") or "",
            "number": data.get("number") or "",
            "status": data.get("status") or "",
            "amount_due": data.get("amount_due") or 0,
            "amount_paid": data.get("amount_paid") or 0,
            "currency": data.get("currency") or "usd",
            "created": _ts(data.get("created")) or timezone.now(),
            "hosted_invoice_url": data.get("hosted_invoice_url") or "",
            "attempt_count": data.get("attempt_count") or 0,
        },
    )
    if failed_at and invoice.status not in Invoice.UNPAID_DONE:
        if invoice.first_failed_at is None or failed_at < invoice.first_failed_at:
            invoice.first_failed_at = failed_at
            invoice.save(update_fields=["first_failed_at"])
    return invoice


def _oldest_unpaid_failure(account: BillingAccount) -> datetime | None:
    if not account.stripe_subscription_id:
        return None
    unpaid = Invoice.objects.filter(
        tenant=account.tenant, subscription_id=account.stripe_subscription_id, first_failed_at__isnull=False
    ).exclude(status__in=Invoice.UNPAID_DONE)
    return unpaid.aggregate(oldest=Min("first_failed_at"))["oldest"]


def _status_wanted(tenant: Tenant, account: BillingAccount, now: datetime) -> str:
    if account.comped:
        return Tenant.Status.ACTIVE
    stripe_status = account.subscription_status
    trial_running = tenant.trial_ends_at is not None and tenant.trial_ends_at > now
    if stripe_status in LIVE:
        if account.payment_failed_at is not None:
            overdue = now - account.payment_failed_at >= timedelta(days=settings.BILLING_GRACE_DAYS)
            return Tenant.Status.SUSPENDED if overdue else Tenant.Status.PAST_DUE
        if stripe_status in ("past_due", "unpaid"):
            return Tenant.Status.PAST_DUE
        return Tenant.Status.TRIALING if stripe_status == "trialing" else Tenant.Status.ACTIVE
    if stripe_status in ENDED:
        return Tenant.Status.TRIALING if trial_running else Tenant.Status.CANCELLED
    return Tenant.Status.TRIALING


def _plan_and_trial_follow(locked: Tenant, subscription: dict) -> dict:
    """Follow the subscription's plan and Stripe trial end; returns what changed ({field: {from, to}})."""
    item = (subscription.get("items") or {}).get("data", [{}])[0]
    price_id = (item.get("price") or {}).get("id", "")
    plan = Plan.for_price_id(price_id)
    if plan is None and price_id:
        # A price no plan maps to (made in Stripe's dashboard, or a plan's price id changed): keep the plan
        # and tell operators, rather than guess what it buys.
        logger.error("subscription %s of %s has price %s, which no plan maps to", subscription["id"], locked, price_id)
    changes: dict[str, dict[str, str | None]] = {}
    if plan is not None and locked.plan != plan.slug:
        changes["plan"] = {"from": locked.plan, "to": plan.slug}
        locked.plan = plan.slug
    trial_end = _ts(subscription.get("trial_end"))
    if subscription.get("status") == "trialing" and trial_end and locked.trial_ends_at != trial_end:
        previous = locked.trial_ends_at
        changes["trial_ends_at"] = {"from": previous.isoformat() if previous else None, "to": trial_end.isoformat()}
        locked.trial_ends_at = trial_end
    if changes:
        locked.save(update_fields=[*changes, "updated_at"])
    return changes


ACTIONS: dict[str, BillingAction] = {
    Tenant.Status.PAST_DUE: BillingAction.BILLING_PAYMENT_FAILED,
    Tenant.Status.SUSPENDED: BillingAction.BILLING_SUSPENDED_UNPAID,
    Tenant.Status.CANCELLED: BillingAction.BILLING_SUBSCRIPTION_CANCELLED,
}


def billing_status_recompute(
    *, account: BillingAccount, subscription: dict | None = None, now: datetime | None = None, actor: str = "stripe"
) -> str:
    """Set status (and, from a subscription just read from Stripe, plan and Stripe trial end) from the
    mirror. Call with the account from `_locked_account`: its workspace row is locked and current. `actor` is
    "stripe" when Stripe's data caused the change, "system" when our clock did (the grace period)."""
    now = now or timezone.now()
    account.payment_failed_at = _oldest_unpaid_failure(account)
    account.save(update_fields=["payment_failed_at"])
    locked = account.tenant
    previous = (locked.status, locked.suspended_by)
    changes = {}
    if subscription is not None and not account.comped and subscription.get("status") in LIVE:
        changes = _plan_and_trial_follow(locked, subscription)
    wanted = _status_wanted(locked, account, now)
    if previous[0] in (Tenant.Status.PAST_DUE, Tenant.Status.SUSPENDED) and wanted == Tenant.Status.ACTIVE:
        action = BillingAction.BILLING_INVOICE_PAID
    else:
        action = ACTIONS.get(wanted, BillingAction.BILLING_SUBSCRIPTION_CHANGED)
    details = {
        "subscription": account.stripe_subscription_id,
        "stripe_status": account.subscription_status,
        "plan": locked.plan,
        "payment_failed_at": account.payment_failed_at.isoformat() if account.payment_failed_at else None,
        **({"changes": changes} if changes else {}),
    }
    updated = tenant_services.tenant_billing_status_set(
        tenant=locked, status=wanted, action=action, details=details, actor=actor
    )
    if changes and (updated.status, updated.suspended_by) == previous:
        # The status stayed (no event written for it), but the plan or the trial's end followed Stripe.
        audit_record(tenant=locked, actor=actor, action=BillingAction.BILLING_SUBSCRIPTION_CHANGED, details=details)
    return f"{updated.status}" + (f" (was {previous[0]})" if updated.status != previous[0] else "")


# Events. Each reads the objects back from Stripe, mirrors them, then recomputes the workspace.


def _missed_failure(account: BillingAccount, subscriptions: list[dict]) -> dict | None:
    """Stripe says the current subscription is past due or unpaid but we hold no failed invoice of it (the
    payment_failed event never reached us): read its latest invoice, whose failure then starts the clock."""
    current = current_subscription(subscriptions)
    if not current or current.get("status") not in ("past_due", "unpaid") or not current.get("latest_invoice"):
        return None
    known = Invoice.objects.filter(
        tenant=account.tenant, subscription_id=current["id"], first_failed_at__isnull=False
    ).exclude(status__in=Invoice.UNPAID_DONE)
    if known.exists():
        return None
    latest = current["latest_invoice"]
    return stripe_api.invoice_get(latest if isinstance(latest, str) else latest["id"])


def subscription_event_apply(*, tenant: Tenant, subscription_id: str = "") -> str:
    """customer.subscription.*, checkout.session.completed, reconcile: read the customer's subscriptions
    from Stripe (before taking any lock), follow the current one, recompute."""
    account = account_for(tenant)
    if not account.stripe_customer_id:
        with transaction.atomic():
            return "applied: no customer: " + billing_status_recompute(account=_locked_account(tenant))
    subscriptions = stripe_api.subscriptions_of(account.stripe_customer_id)
    missed = _missed_failure(account, subscriptions)
    with transaction.atomic():
        locked = _locked_account(tenant)
        if missed:
            _invoice_record(tenant, missed, failed_at=timezone.now())
        current = _subscription_record(locked, subscriptions)
        result = billing_status_recompute(account=locked, subscription=current)
    _djstripe_mirror(djstripe_models.Subscription, subscriptions)
    followed = f"follows {current['id']}" if current else "no subscription"
    if current and subscription_id and current["id"] != subscription_id:
        followed += f" (not {subscription_id})"
    return f"applied: {followed}: {result}"


def invoice_event_apply(*, tenant: Tenant, kind: str, invoice: dict, event_created: datetime) -> str:
    """invoice.*: read the invoice and the subscriptions back from Stripe, record them, tell the billing
    contact (once per invoice, or per failed attempt), then recompute."""
    account = account_for(tenant)
    if not account.stripe_customer_id:  # the webhook found this workspace by the invoice's customer
        raise ValueError(f"{tenant} has no Stripe customer: an invoice event cannot be applied")
    data = stripe_api.invoice_get(invoice["id"])
    subscriptions = stripe_api.subscriptions_of(account.stripe_customer_id)
    with transaction.atomic():
        locked = _locked_account(tenant)
        failed_at = event_created if kind == "invoice.payment_failed" else None
        mirrored = _invoice_record(tenant, data, failed_at=failed_at)
        current = _subscription_record(locked, subscriptions)
        unpaid = mirrored.status not in Invoice.UNPAID_DONE
        if kind == "invoice.payment_failed" and unpaid:
            occasion = f"{mirrored.stripe_id}:{invoice.get('attempt_count') or mirrored.attempt_count}"
            if notice_claim(tenant_id=tenant.pk, kind="payment_failed", occasion=occasion):
                email_queue(
                    kind="payment_failed", to=tenant.email, tenant=tenant, params={"invoice": mirrored.stripe_id}
                )
        elif kind == "invoice.payment_action_required" and unpaid:
            if notice_claim(tenant_id=tenant.pk, kind="payment_action_required", occasion=mirrored.stripe_id):
                email_queue(
                    kind="payment_action_required",
                    to=tenant.email,
                    tenant=tenant,
                    params={"invoice": mirrored.stripe_id},
                )
        elif kind == "invoice.paid" and mirrored.status == "paid":
            _receipt_queue(tenant, mirrored, invoice)
        result = billing_status_recompute(account=locked, subscription=current)
    _djstripe_mirror(djstripe_models.Subscription, subscriptions)
    _djstripe_mirror(djstripe_models.Invoice, [stripe_api.without_lines(data)])
    return f"applied: invoice {mirrored.status}: {result}"


def _receipt_queue(tenant: Tenant, invoice: Invoice, payload: dict) -> None:
    """One receipt per paid invoice (not for zero-amount invoices, such as a Stripe trial's first)."""
    if not invoice.amount_paid or not notice_claim(tenant_id=tenant.pk, kind="receipt", occasion=invoice.stripe_id):
        return
    lines = (payload.get("lines") or {}).get("data") or [{}]
    period = lines[0].get("period") or {"start": payload.get("period_start"), "end": payload.get("period_end")}
    start, end = _ts(period.get("start")), _ts(period.get("end"))
    params = {
        "invoice": invoice.stripe_id,
        "period": [start.isoformat() if start else None, end.isoformat() if end else None],
    }
    email_queue(kind="payment_succeeded", to=tenant.email, tenant=tenant, params=params)


def grace_enforce_all(*, now: datetime | None = None) -> list[str]:
    """Suspend past-due workspaces whose oldest unpaid invoice first failed BILLING_GRACE_DAYS ago or more
    (the worker, hourly; `manage.py enforce_billing`). Reads no Stripe: the mirror has what it needs."""
    suspended = []
    for account in BillingAccount.objects.filter(
        payment_failed_at__isnull=False, tenant__status=Tenant.Status.PAST_DUE
    ):
        with transaction.atomic():
            locked = _locked_account(account.tenant)
            if billing_status_recompute(account=locked, now=now, actor="system").startswith("suspended"):
                suspended.append(locked.tenant.workspace_subdomain)
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
    audit_record(
        tenant=locked,
        actor=actor,
        action=BillingAction.BILLING_COMPED,
        ip_address=ip_address,
        details={"from": previous, "to": plan.slug},
    )
    return locked


def plan_comp_lift(*, tenant: Tenant, actor: str, ip_address: str | None = None) -> Tenant:
    """End a comp: the workspace follows its Stripe subscription (or its trial) again."""
    with transaction.atomic():
        account = _locked_account(tenant)
        if not account.comped:
            return tenant
        account.comped = False
        account.save(update_fields=["comped"])
        audit_record(
            tenant=tenant,
            actor=actor,
            action=BillingAction.BILLING_COMP_LIFTED,
            ip_address=ip_address,
            details={"plan": tenant.plan},
        )
    subscription_event_apply(tenant=tenant)  # plan and status follow Stripe again, read back now
    return Tenant.objects.get(pk=tenant.pk)


# Closing, reopening and purging a workspace (queued by billing/receivers.py; billing/tasks.py)

WORKSPACE_CLOSED_TASK = "billing.workspace_closed"
WORKSPACE_REOPENED_TASK = "billing.workspace_reopened"
WORKSPACE_RECHECK_TASK = "billing.workspace_recheck"
CUSTOMER_PURGED_TASK = "billing.customer_purged"


def _live_subscriptions(customer_id: str) -> list[dict]:
    return [sub for sub in stripe_api.subscriptions_of(customer_id) if sub.get("status") in (*LIVE, "incomplete")]


def renewal_stop(*, tenant: Tenant) -> list[str]:
    """The workspace was closed: its subscriptions end at the period already paid, with no new charge.
    Raises BillingUnavailable when Stripe cannot be reached (the queue retries)."""
    account = account_for(tenant)
    tenant.refresh_from_db()
    if not tenant.is_closed or not account.stripe_customer_id:
        return []
    stopped = []
    for sub in _live_subscriptions(account.stripe_customer_id):
        if not sub.get("cancel_at_period_end"):
            stripe_api.subscription_cancel_at_period_end(sub["id"], cancel=True)
            stopped.append(sub["id"])
    if stopped:
        audit_record(
            tenant=tenant,
            actor="system",
            action=BillingAction.BILLING_RENEWAL_STOPPED,
            details={"subscriptions": stopped},
        )
    return stopped


def renewal_resume(*, tenant: Tenant) -> list[str]:
    """The workspace was reopened within its grace period: subscriptions still running renew again (one
    that already ended stays ended; the owner subscribes again on the Billing page)."""
    account = account_for(tenant)
    tenant.refresh_from_db()
    if tenant.is_closed:
        return []
    if not account.stripe_customer_id:
        subscription_event_apply(tenant=tenant)
        return []
    resumed = []
    for sub in _live_subscriptions(account.stripe_customer_id):
        if sub.get("cancel_at_period_end"):
            stripe_api.subscription_cancel_at_period_end(sub["id"], cancel=False)
            resumed.append(sub["id"])
    if resumed:
        audit_record(
            tenant=tenant,
            actor="system",
            action=BillingAction.BILLING_RENEWAL_RESUMED,
            details={"subscriptions": resumed},
        )
    subscription_event_apply(tenant=tenant)  # the reopened workspace's status follows Stripe again
    return resumed


def customer_subscriptions_cancel(*, customer_id: str) -> list[str]:
    """The workspace was purged: end every subscription of its customer now."""
    cancelled = []
    for sub in _live_subscriptions(customer_id):
        stripe_api.subscription_cancel(sub["id"])
        cancelled.append(sub["id"])
    return cancelled


def billing_reconcile(*, now: datetime | None = None) -> list[str]:
    """Fix whatever the webhooks missed (the worker, nightly; `manage.py billing_reconcile`): every customer's
    subscriptions and unsettled failed invoices read back from Stripe; closed workspaces' renewal stopped
    again; paying states without a customer recomputed. Returns what changed or could not be checked; one
    workspace's error never stops the others."""
    changes = []
    accounts = BillingAccount.objects.select_related("tenant").filter(tenant__kind=Tenant.Kind.WORKSPACE)
    for account in accounts:
        tenant = account.tenant
        if not account.stripe_customer_id and tenant.status not in (Tenant.Status.ACTIVE, Tenant.Status.PAST_DUE):
            continue
        before = (tenant.status, tenant.plan, account.stripe_subscription_id, account.subscription_status)
        try:
            for invoice in Invoice.objects.filter(tenant=tenant, first_failed_at__isnull=False).exclude(
                status__in=Invoice.UNPAID_DONE
            ):
                data = stripe_api.invoice_get(invoice.stripe_id)
                with transaction.atomic():
                    _locked_account(tenant)
                    _invoice_record(tenant, data)
            subscription_event_apply(tenant=tenant)
            if tenant.is_closed:
                renewal_stop(tenant=tenant)
        except Exception as error:
            logger.exception("billing reconcile could not check %s", tenant.subdomain)
            changes.append(f"{tenant.subdomain}: not checked ({type(error).__name__}: {error})")
            continue
        tenant.refresh_from_db()
        account.refresh_from_db()
        after = (tenant.status, tenant.plan, account.stripe_subscription_id, account.subscription_status)
        if after != before:
            changes.append(f"{tenant.subdomain}: {before} -> {after}")
            logger.warning("billing reconcile changed %s: %s -> %s", tenant.subdomain, before, after)
    return changes
