"""The operators' dashboard (the admin index): business figures and system health, each with the admin URL
of the filtered list behind it. Set-based queries only: the number of queries does not depend on the number
of workspaces, and nothing loops over schemas."""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from billing.audit import BillingAction
from billing.models import BillingAccount, BillingEvent, Plan, money
from console.backups import MAX_AGE as BACKUP_MAX_AGE
from console.backups import BackupError, backup_status
from console.models import LaunchCheckRun
from core import health, metrics
from core.models import JobFailure
from core.sentry import release_detect
from notifications.models import EmailLog
from tenants.audit import TenantAction
from tenants.models import Tenant

SIGNUP_DAYS = 30
CHURN_DAYS = 30
TRIAL_ENDING_DAYS = 7
LIST_LENGTH = 10
# Subscriptions that bring in money: trialing is not paid yet, unpaid has stopped paying.
REVENUE_STATUSES = ("active", "past_due")
CHURN_ACTIONS = (TenantAction.TENANT_CLOSED, BillingAction.BILLING_SUBSCRIPTION_CANCELLED)


def admin_url(name: str, *args, **query) -> str:
    """The admin page `name` (e.g. "tenants_tenant_changelist"), with list filters as query parameters."""
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _tenants_url(**query) -> str:
    return admin_url("tenants_tenant_changelist", **query)


def dashboard() -> dict:
    now = timezone.now()
    return {"business": business_figures(now=now), "health": health_figures(now=now), "generated_at": now}


def business_figures(*, now: datetime) -> dict:
    status_counts = workspace_status_counts()
    return {
        "by_status": workspaces_by_status(status_counts),
        "by_plan": workspaces_by_plan(),
        "signups": signups_per_day(now=now),
        "conversion": trial_conversion(now=now),
        "revenue": recurring_revenue(),
        "churn": churn(now=now),
        "trials_ending": trials_ending(now=now),
        "past_due": past_due_workspaces(count=status_counts.get(Tenant.Status.PAST_DUE, 0)),
        "newest": newest_workspaces(),
    }


def workspace_status_counts() -> dict[str, int]:
    """Workspaces per status value (a status with none is missing)."""
    return dict(Tenant.objects.workspaces().values_list("status").annotate(n=Count("id")).order_by())


def workspaces_by_status(counts: dict[str, int]) -> list[dict]:
    return [
        {"label": label, "count": counts.get(value, 0), "url": _tenants_url(status__exact=value)}
        for value, label in Tenant.Status.choices
    ]


def workspaces_by_plan() -> list[dict]:
    counts = dict(Tenant.objects.workspaces().values_list("plan").annotate(n=Count("id")).order_by())
    names = dict(Plan.objects.values_list("slug", "name"))
    slugs = [*names, *sorted(set(counts) - set(names))]  # plans on offer first, then any retired slug
    return [
        {"label": names.get(slug, slug), "count": counts.get(slug, 0), "url": _tenants_url(plan=slug)} for slug in slugs
    ]


def signups_per_day(*, now: datetime, days: int = SIGNUP_DAYS) -> dict:
    """One entry per calendar day (UTC), the oldest first, today included: days with no signup count 0."""
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    counts = dict(
        Tenant.objects.workspaces()
        .filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "days": [
            {"day": day, "count": counts.get(day, 0), "url": _day_url(day)}
            for day in (first + timedelta(days=offset) for offset in range(days))
        ],
        "url": _tenants_url(created_at__gte=_iso(start)),
    }


def _day_url(day: date) -> str:
    return _tenants_url(created_at__day=day.day, created_at__month=day.month, created_at__year=day.year)


def trial_conversion(*, now: datetime) -> dict:
    """Of the workspaces whose trial (TRIAL_DAYS from signup) is over, the share that pays (active or past due)."""
    cutoff = now - timedelta(days=settings.TRIAL_DAYS)
    counts = Tenant.objects.workspaces().aggregate(
        cohort=Count("id", filter=Q(created_at__lt=cutoff)),
        paid=Count("id", filter=Q(created_at__lt=cutoff, status__in=[Tenant.Status.ACTIVE, Tenant.Status.PAST_DUE])),
    )
    return {
        **counts,
        "percent": round(100 * counts["paid"] / counts["cohort"], 1) if counts["cohort"] else None,
        "cohort_url": _tenants_url(created_at__lt=_iso(cutoff)),
        "paid_url": _tenants_url(created_at__lt=_iso(cutoff), status__in="active,past_due"),
    }


def recurring_revenue() -> list[dict]:
    """MRR and ARR per currency from the subscriptions that bring in money (comped workspaces pay nothing),
    priced by their plan and billing interval (a yearly plan counts a twelfth of its price a month)."""
    rows = (
        BillingAccount.objects.filter(subscription_status__in=REVENUE_STATUSES, comped=False)
        .values_list("tenant__plan", "interval")
        .annotate(n=Count("id"))
        .order_by()
    )
    plans = {plan.slug: plan for plan in Plan.objects.all()}
    monthly: dict[str, float] = {}
    subscriptions: dict[str, int] = {}
    for slug, interval, n in rows:
        plan = plans.get(slug)
        if plan is None:
            continue
        price = plan.yearly_price / 12 if interval == "year" else plan.monthly_price
        monthly[plan.currency] = monthly.get(plan.currency, 0) + price * n
        subscriptions[plan.currency] = subscriptions.get(plan.currency, 0) + n
    return [
        {
            "currency": currency.upper(),
            "subscriptions": subscriptions[currency],
            "mrr": money(round(mrr * 100), currency),
            "arr": money(round(mrr * 1200), currency),
            "url": _tenants_url(status__in="active,past_due"),
        }
        for currency, mrr in sorted(monthly.items())
    ]


def churn(*, now: datetime, days: int = CHURN_DAYS) -> dict:
    """Workspaces cancelled (closed by the owner or their subscription ended) in the last `days`, over the
    workspaces alive at its start: created before it, and not already cancelled before it."""
    since = now - timedelta(days=days)
    churned_recently = Q(status=Tenant.Status.CANCELLED) & (
        Q(closed_at__gte=since) | Q(audit_events__action__in=CHURN_ACTIONS, audit_events__created_at__gte=since)
    )
    counts = Tenant.objects.workspaces().aggregate(
        churned=Count("id", filter=churned_recently, distinct=True),
        cancelled=Count("id", filter=Q(status=Tenant.Status.CANCELLED, created_at__lt=since), distinct=True),
        created_before=Count("id", filter=Q(created_at__lt=since), distinct=True),
        churned_old=Count("id", filter=churned_recently & Q(created_at__lt=since), distinct=True),
    )
    # Cancelled and created before the window, but not within it: cancelled before it started.
    alive_then = counts["created_before"] - (counts["cancelled"] - counts["churned_old"])
    return {
        "churned": counts["churned"],
        "alive_then": alive_then,
        "percent": round(100 * counts["churned_old"] / alive_then, 1) if alive_then else None,
        "url": admin_url("core_auditevent_changelist", action__in=",".join(CHURN_ACTIONS), created_at__gte=_iso(since)),
    }


def trials_ending(*, now: datetime, days: int = TRIAL_ENDING_DAYS) -> dict:
    until = now + timedelta(days=days)
    trials = Tenant.objects.workspaces().filter(
        status=Tenant.Status.TRIALING, trial_ends_at__gte=now, trial_ends_at__lt=until
    )
    return {
        "count": trials.count(),
        "url": _tenants_url(status__exact="trialing", trial_ends_at__gte=_iso(now), trial_ends_at__lt=_iso(until)),
    }


def past_due_workspaces(*, count: int, limit: int = LIST_LENGTH) -> dict:
    """The first `limit` of the `count` past-due workspaces (workspace_status_counts() has counted them), with
    what their open invoices add up to (the oldest failure first)."""
    open_invoices = Q(invoices__status="open")
    workspaces = (
        Tenant.objects.workspaces()
        .filter(status=Tenant.Status.PAST_DUE)
        .annotate(
            amount=Sum("invoices__amount_due", filter=open_invoices),
            currency=Max("invoices__currency", filter=open_invoices),
            open_invoices=Count("invoices", filter=open_invoices),
        )
        .order_by("billing__payment_failed_at", "created_at")
    )
    return {
        "count": count,
        "url": _tenants_url(status__exact="past_due"),
        "rows": [
            {
                "name": str(tenant),
                "subdomain": tenant.subdomain,
                "amount": money(tenant.amount, tenant.currency) if tenant.amount else "-",
                "open_invoices": tenant.open_invoices,
                "url": admin_url("tenants_tenant_change", tenant.pk),
                "invoices_url": admin_url(
                    "billing_invoice_changelist", tenant__id__exact=tenant.pk, status__exact="open"
                ),
            }
            for tenant in workspaces[:limit]
        ],
    }


def newest_workspaces(*, limit: int = LIST_LENGTH) -> dict:
    rows = Tenant.objects.workspaces().order_by("-created_at")[:limit]
    return {
        "url": _tenants_url(),
        "rows": [
            {
                "name": str(tenant),
                "subdomain": tenant.subdomain,
                "status": tenant.get_status_display(),
                "plan": tenant.plan,
                "created_at": tenant.created_at,
                "url": admin_url("tenants_tenant_change", tenant.pk),
            }
            for tenant in rows
        ],
    }


def health_figures(*, now: datetime) -> dict:
    day_ago = now - timedelta(hours=24)
    return {
        "database": database_health(),
        "redis": redis_health(),
        "queue": queue_health(),
        "failed_jobs": {
            "count": JobFailure.objects.filter(failed_at__gte=day_ago).count(),
            "url": admin_url("core_jobfailure_changelist", failed_at__gte=_iso(day_ago)),
        },
        "migrations": migrations_health(),
        "spares": {
            "count": Tenant.objects.spares().count(),
            "target": settings.SCHEMA_POOL_SIZE,
        },
        "webhook": last_webhook(),
        "email": email_health(day_ago=day_ago),
        "version": release_detect(),
        "launch_check": last_launch_check(),
        "backup": last_backup(now=now),
        "errors": metrics.error_rate(hours=24, now=now),
    }


def last_backup(*, now: datetime) -> dict:
    """The newest whole-database backup's age, "stale" past BACKUP_MAX_AGE (the worker makes one daily),
    and the last nightly run of every workspace's backup: when, how many, which failed."""
    try:
        status = backup_status()
    except BackupError as error:  # the storage is down: that is the answer, not a 500
        return {"made_at": None, "hours": None, "stale": True, "workspaces": None, "error": str(error)[:200]}
    made, run = status["database_made_at"], status["nightly_run"]
    max_hours = BACKUP_MAX_AGE.total_seconds() / 3600
    hours = None if made is None else (now - made).total_seconds() / 3600
    workspaces = None
    if run:
        finished = datetime.fromisoformat(run["finished_at"])
        run_hours = (now - finished).total_seconds() / 3600
        workspaces = {
            "finished_at": finished,
            "hours": run_hours,
            "backed_up": run["backed_up"],
            "failed": sorted(run["failed"]),
            "bad": bool(run["failed"]) or run_hours > max_hours,
        }
    return {"made_at": made, "hours": hours, "stale": hours is None or hours > max_hours, "workspaces": workspaces}


def database_health() -> dict:
    latency_ms = health.database_ping()
    size = metrics.database_size()
    return {
        "latency_ms": round(latency_ms, 1),
        "size_mb": round(size["bytes"] / 1024 / 1024, 1),
        "size_measured_at": size["measured_at"],
    }


def redis_health() -> dict:
    if not settings.REDIS_URL:
        return {"ok": None, "detail": "not configured (per-process memory)"}
    try:
        ms = health.redis_probe()
    except Exception as error:  # down is an answer for the dashboard, not a 500
        return {"ok": False, "detail": health.error_text(error)[:200]}
    return {"ok": True, "detail": f"ping {ms:.1f} ms"}


def queue_health() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'),"
            f" ({health.WORKER_HEARTBEAT_AGE_SQL})"
        )
        depth, heartbeat_age = cursor.fetchone()
    return {
        "depth": depth,
        "url": admin_url("procrastinate_procrastinatejob_changelist", status__exact="todo"),
        "heartbeat_age": None if heartbeat_age is None else round(heartbeat_age),
        "worker_ok": heartbeat_age is not None and heartbeat_age <= health.WORKER_HEARTBEAT_MAX_AGE,
        "jobs_url": admin_url("procrastinate_procrastinatejob_changelist"),
    }


def migrations_health() -> dict:
    pending = health.migrations_pending()
    return {"count": len(pending), "names": health.migration_names(pending)}


def last_webhook() -> dict | None:
    event = BillingEvent.objects.first()
    if event is None:
        return None
    return {
        "type": event.type,
        "received_at": event.received_at,
        "result": event.result,
        "url": admin_url("billing_billingevent_change", event.pk),
    }


def email_health(*, day_ago: datetime) -> dict:
    last = EmailLog.objects.filter(sent_at__isnull=False).order_by("-sent_at").first()
    return {
        "last_sent": None
        if last is None
        else {"kind": last.kind, "sent_at": last.sent_at, "url": admin_url("notifications_emaillog_change", last.pk)},
        "failed": EmailLog.objects.filter(status__in=EmailLog.FAILURES, created_at__gte=day_ago).count(),
        "failed_url": admin_url(
            "notifications_emaillog_changelist", status__in=",".join(EmailLog.FAILURES), created_at__gte=_iso(day_ago)
        ),
        "sent_url": admin_url("notifications_emaillog_changelist", status__exact=EmailLog.Status.SENT),
    }


def last_launch_check() -> dict | None:
    run = LaunchCheckRun.objects.first()
    if run is None:
        return None
    return {
        "ran_at": run.ran_at,
        "passed": run.passed,
        "warned": run.warned,
        "failed": run.failed,
        "url": admin_url("console_launchcheckrun_change", run.pk),
    }
