"""Periodic billing work: trial reminders and the grace period of unpaid invoices."""

from procrastinate.contrib.django import app

from billing import reminders, services


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
