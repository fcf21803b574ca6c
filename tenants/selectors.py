from collections.abc import Iterable

from django.db import connection
from django_tenants.utils import schema_exists

from accounts.models import User


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


def current_workspace():
    """The Tenant whose schema the connection is on: the request's, or (in commands and jobs using
    schema_context, which sets a stand-in) looked up by schema name."""
    from tenants.models import Tenant

    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.get(schema_name=connection.schema_name)
