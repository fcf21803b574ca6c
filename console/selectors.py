"""What the operators see of a workspace: its members and usage, read across its schema and its public rows."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django_tenants.utils import schema_exists

from accounts.models import User
from core.models import AuditEvent
from notifications.models import EmailLog
from tenants.audit import TenantAction
from tenants.models import Tenant

ACTIVE_DAYS = 30


def user_counts(schema_names: Iterable[str]) -> dict[str, int]:
    """Users per workspace schema, in one query for a whole page of workspaces."""
    names = [name for name in schema_names if name]
    if not names:
        return {}
    table = connection.ops.quote_name(User._meta.db_table)
    parts = [f"SELECT %s, count(*) FROM {connection.ops.quote_name(name)}.{table}" for name in names]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), names)
        return dict(cursor.fetchall())


def user_count(schema_name: str) -> int | None:
    if not schema_exists(schema_name):
        return None
    return user_counts([schema_name]).get(schema_name, 0)


@dataclass(frozen=True)
class WorkspaceUsage:
    members: int
    deactivated: int
    active_members: int  # logged in within the last ACTIVE_DAYS
    last_activity: datetime | None  # the newest login of any member
    schema_bytes: int  # tables with their indexes and TOAST, on disk
    exports: int
    emails: int
    emails_sent: int
    emails_failed: int  # failed, bounced or complained


def workspace_usage(tenant: Tenant) -> WorkspaceUsage:
    """One workspace's usage for the operators, in three queries: its schema (members and size on disk,
    reading this schema's catalog rows only) and its public rows (exports audited, emails logged)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE NOT is_active), count(*) FILTER (WHERE last_login >= %s),
                       max(last_login),
                       (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = %s AND c.relkind IN ('r', 'm'))
                FROM {quote(tenant.schema_name)}.{quote(User._meta.db_table)}""",
            [timezone.now() - timedelta(days=ACTIVE_DAYS), tenant.schema_name],
        )
        members, deactivated, active, last_login, size = cursor.fetchone()
    exports = AuditEvent.objects.filter(tenant=tenant, action=TenantAction.TENANT_EXPORTED).count()
    emails = EmailLog.objects.filter(tenant=tenant).aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(status=EmailLog.Status.SENT)),
        failed=Count("pk", filter=Q(status__in=EmailLog.FAILURES)),
    )
    return WorkspaceUsage(
        members=members,
        deactivated=deactivated,
        active_members=active,
        last_activity=last_login,
        schema_bytes=int(size),
        exports=exports,
        emails=emails["total"],
        emails_sent=emails["sent"],
        emails_failed=emails["failed"],
    )
