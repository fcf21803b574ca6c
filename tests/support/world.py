"""Undo what a committed test left in the shared test database."""

from django.contrib.sessions.models import Session
from django.db import connection
from djstripe import models as djstripe_models

from accounts.models import User
from billing.models import BillingEvent, Invoice
from core.models import AuditEvent, JobFailure
from legal.models import LegalAcceptance
from notifications.models import EmailLog, Suppression
from tenants.models import Domain, Tenant


def _stripe_models() -> list:
    """Rows a committed billing test may leave: dj-stripe's mirror and our billing records."""
    return [
        BillingEvent,
        Invoice,
        djstripe_models.WebhookEventTrigger,
        djstripe_models.Invoice,
        djstripe_models.SubscriptionItem,
        djstripe_models.Subscription,
        djstripe_models.Customer,
        djstripe_models.Price,
        djstripe_models.Product,
        djstripe_models.WebhookEndpoint,
        djstripe_models.Account,
    ]


QUEUE_TABLES = ["procrastinate_periodic_defers", "procrastinate_events", "procrastinate_jobs", "procrastinate_workers"]


def _last_id(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def committed_snapshot() -> dict:
    connection.set_schema_to_public()
    return {
        "non_spares": set(Tenant.objects.exclude(kind=Tenant.Kind.SPARE).values_list("pk", flat=True)),
        "users": set(User.objects.values_list("pk", flat=True)),
        "sessions": set(Session.objects.values_list("session_key", flat=True)),
        "audit": AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "legal": LegalAcceptance.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "emails": _last_id(EmailLog),
        "suppressions": _last_id(Suppression),
        "job_failures": _last_id(JobFailure),
        "stripe": {model: _last_id(model) for model in _stripe_models()},
    }


def committed_cleanup(before: dict) -> None:
    """Drop every workspace made since the snapshot (claimed spares included), with its schema."""
    AuditEvent.objects.filter(pk__gt=before["audit"]).delete()
    LegalAcceptance.objects.filter(pk__gt=before["legal"]).delete()
    EmailLog.objects.filter(pk__gt=before["emails"]).delete()
    Suppression.objects.filter(pk__gt=before["suppressions"]).delete()
    JobFailure.objects.filter(pk__gt=before["job_failures"]).delete()
    for model, last in before["stripe"].items():
        model.objects.filter(pk__gt=last).delete()
    with connection.cursor() as cursor:  # the job queue: a committed test starts and ends with it empty
        for table in QUEUE_TABLES:
            cursor.execute(f"DELETE FROM {table}")
    User.objects.exclude(pk__in=before["users"]).delete()
    # Operators' sessions live in the public schema; a workspace's sessions go with its schema.
    Session.objects.exclude(session_key__in=before["sessions"]).delete()
    for tenant in Tenant.objects.exclude(kind=Tenant.Kind.SPARE).exclude(pk__in=before["non_spares"]):
        Domain.objects.filter(tenant=tenant).delete()
        tenant.delete(force_drop=True)
