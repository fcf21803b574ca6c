"""Trial reminders: 7, 3 and 1 days before a trial ends (TRIAL_REMINDER_DAYS), and on the day it ends
unpaid. An hourly sweep (billing/tasks.py, `manage.py send_trial_reminders`) finds the workspaces due with
set-based queries on the public schema, then claims a Notice per (workspace, reminder, trial end) in the
transaction that queues the emails. So:

- a sweep that runs late, twice, or in two workers at once sends nothing twice (the Notice is unique);
- a sweep that was down sends only the reminder due now (one day left: the 1-day one, not three);
- a new trial end (an operator extends the trial) is a new occasion: the reminders re-arm for it;
- workspaces with a live subscription, a comp, a suspension or a closure get none.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, Exists, F, Func, OuterRef, Q, Value, When
from django.utils import timezone

from billing.models import BillingAccount
from core.queue import defer
from notifications.models import Notice
from notifications.services import email_queue, notice_claim
from tenants import services as tenant_services
from tenants.emails import recipients
from tenants.models import Tenant

logger = logging.getLogger(__name__)

CHECK_TASK = "billing.trial_reminders_check"  # billing/tasks.py
TRIAL_ENDED = "trial_ended"
# "The day it ends": a sweep that was down this long still sends it; older ended trials get nothing.
TRIAL_ENDED_WINDOW = timedelta(days=2)
# Stripe subscription states in which someone pays (or will at the end of a Stripe trial): no reminders.
PAYING = ("active", "trialing", "past_due", "unpaid")


def reminder_kind(days: int) -> str:
    return f"trial_ending_{days}"


def occasion_of(trial_ends_at: datetime) -> str:
    """The trial end a reminder is about, as text; the SQL below spells it the same way."""
    return trial_ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class _Occasion(Func):
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    output_field = CharField()


@dataclass(frozen=True)
class Due:
    tenant_id: int
    kind: str
    trial_ends_at: datetime


def reminders_due(*, now: datetime, tenant_id: int | None = None) -> list[Due]:
    """The reminder each trialing workspace is due now and has not had, in one query."""
    days = sorted(settings.TRIAL_REMINDER_DAYS)
    furthest = days[-1] if days else 0
    buckets = [When(trial_ends_at__lte=now, then=Value(TRIAL_ENDED))]
    buckets += [When(trial_ends_at__lte=now + timedelta(days=day), then=Value(reminder_kind(day))) for day in days]
    paying = BillingAccount.objects.filter(tenant=OuterRef("pk")).filter(
        Q(comped=True) | Q(subscription_status__in=PAYING)
    )
    told = Notice.objects.filter(tenant=OuterRef("pk"), kind=OuterRef("reminder"), occasion=OuterRef("occasion"))
    workspaces = Tenant.objects.workspaces().filter(
        status=Tenant.Status.TRIALING,
        closed_at__isnull=True,
        trial_ends_at__gt=now - TRIAL_ENDED_WINDOW,
        trial_ends_at__lte=now + timedelta(days=furthest),
    )
    if tenant_id is not None:
        workspaces = workspaces.filter(pk=tenant_id)
    rows = (
        workspaces.annotate(reminder=Case(*buckets, output_field=CharField()), occasion=_Occasion(F("trial_ends_at")))
        .filter(~Exists(paying), ~Exists(told))
        .order_by("trial_ends_at")
        .values_list("pk", "reminder", "trial_ends_at")
    )
    return [Due(tenant_id=pk, kind=kind, trial_ends_at=ends) for pk, kind, ends in rows]


def reminders_send(*, now: datetime | None = None, tenant_id: int | None = None) -> list[str]:
    """Claim and queue every reminder due now (the sweep). Returns "<subdomain>: <kind>" for each one sent;
    running it again at once returns nothing."""
    now = now or timezone.now()
    sent = []
    for due in reminders_due(now=now, tenant_id=tenant_id):
        with transaction.atomic():
            if not notice_claim(tenant_id=due.tenant_id, kind=due.kind, occasion=occasion_of(due.trial_ends_at)):
                continue  # another sweep got there first
            tenant = Tenant.objects.get(pk=due.tenant_id)
            params = {"reminder": due.kind, "trial_ends_at": due.trial_ends_at.isoformat()}
            kind = TRIAL_ENDED if due.kind == TRIAL_ENDED else "trial_ending"
            for address in recipients(tenant):
                email_queue(kind=kind, to=address, tenant=tenant, params=params)
        sent.append(f"{tenant.subdomain}: {due.kind}")
    if sent:
        logger.info("trial reminders queued: %s", ", ".join(sent))
    return sent


def reminders_check_soon(*, tenant: Tenant) -> None:
    """Check one workspace at once (after its trial end changed), rather than at the next hourly sweep. Queued
    in the caller's transaction: it runs only if the change commits."""
    defer(CHECK_TASK, tenant_id=tenant.pk)


@transaction.atomic
def trial_extend(*, tenant: Tenant, days: int, actor: str, ip_address: str | None = None) -> Tenant:
    """An operator adds days to a trial; its reminders re-arm for the new end and are checked at once."""
    tenant = tenant_services.tenant_extend_trial(tenant=tenant, days=days, actor=actor, ip_address=ip_address)
    reminders_check_soon(tenant=tenant)
    return tenant


@transaction.atomic
def trial_end_set(*, tenant: Tenant, days: int, actor: str, ip_address: str | None = None) -> Tenant:
    """An operator makes a trial end `days` from now; the reminder due then goes out at once."""
    tenant = tenant_services.tenant_trial_end_set(tenant=tenant, days=days, actor=actor, ip_address=ip_address)
    reminders_check_soon(tenant=tenant)
    return tenant
