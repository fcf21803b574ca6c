"""Undo what a committed test left in the shared test database."""

from django.contrib.sessions.models import Session
from django.db import connection

from accounts.models import User
from legal.models import LegalAcceptance
from tenants.models import AuditEvent, Domain, Tenant


def committed_snapshot() -> dict:
    connection.set_schema_to_public()
    return {
        "non_spares": set(Tenant.objects.exclude(kind=Tenant.Kind.SPARE).values_list("pk", flat=True)),
        "users": set(User.objects.values_list("pk", flat=True)),
        "sessions": set(Session.objects.values_list("session_key", flat=True)),
        "audit": AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "legal": LegalAcceptance.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


def committed_cleanup(before: dict) -> None:
    """Drop every workspace made since the snapshot (claimed spares included), with its schema."""
    AuditEvent.objects.filter(pk__gt=before["audit"]).delete()
    LegalAcceptance.objects.filter(pk__gt=before["legal"]).delete()
    User.objects.exclude(pk__in=before["users"]).delete()
    # Operators' sessions live in the public schema; a workspace's sessions go with its schema.
    Session.objects.exclude(session_key__in=before["sessions"]).delete()
    for tenant in Tenant.objects.exclude(kind=Tenant.Kind.SPARE).exclude(pk__in=before["non_spares"]):
        Domain.objects.filter(tenant=tenant).delete()
        tenant.delete(force_drop=True)
