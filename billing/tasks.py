"""Periodic billing work: trial reminders and the grace period of unpaid invoices."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from billing import reminders, services
from tenants.models import Tenant

# Calls to Stripe that must happen eventually: a dozen tries over about two and a half hours, then a
# failed job in the admin with its error and a Retry action.
STRIPE_RETRY = RetryStrategy(max_attempts=12, wait=60, exponential_wait=2)


@app.periodic(cron="5 * * * *")
@app.task(name="billing.trial_reminders_sweep", queue="maintenance", queueing_lock="trial-reminders-sweep")
def trial_reminders_sweep(timestamp: int) -> list[str]:
    """Hourly: queue every trial reminder due (`manage.py send_trial_reminders` runs the same)."""
    return reminders.reminders_send()


@app.task(name=reminders.CHECK_TASK, queue="maintenance")
def trial_reminders_check(*, tenant_id: int) -> list[str]:
    """One workspace, right after its trial end changed."""
    return reminders.reminders_send(tenant_id=tenant_id)


@app.periodic(cron="15 * * * *")
@app.task(name="billing.enforce_grace", queue="maintenance", queueing_lock="enforce-billing")
def enforce_grace(timestamp: int) -> list[str]:
    """Hourly: suspend workspaces still unpaid BILLING_GRACE_DAYS after a failed payment (`manage.py
    enforce_billing`)."""
    return services.grace_enforce_all()


@app.task(name=services.WORKSPACE_CLOSED_TASK, queue="billing", retry=STRIPE_RETRY)
def workspace_closed(*, tenant_id: int) -> list[str]:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return services.renewal_stop(tenant=tenant) if tenant else []


@app.task(name=services.WORKSPACE_REOPENED_TASK, queue="billing", retry=STRIPE_RETRY)
def workspace_reopened(*, tenant_id: int) -> list[str]:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return services.renewal_resume(tenant=tenant) if tenant else []


@app.task(name=services.CUSTOMER_PURGED_TASK, queue="billing", retry=STRIPE_RETRY)
def customer_purged(*, customer_id: str) -> list[str]:
    return services.customer_subscriptions_cancel(customer_id=customer_id)


@app.periodic(cron="20 2 * * *")
@app.task(name="billing.reconcile", queue="maintenance", queueing_lock="billing-reconcile")
def reconcile(timestamp: int) -> list[str]:
    """Nightly: every customer read back from Stripe (`manage.py billing_reconcile`)."""
    return services.billing_reconcile()


@app.task(name=services.WORKSPACE_RECHECK_TASK, queue="billing", retry=STRIPE_RETRY)
def workspace_recheck(*, tenant_id: int) -> str:
    """After an operator lifts a suspension: the status its subscription or trial gives, read back now."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return services.subscription_event_apply(tenant=tenant) if tenant else "no such workspace"
