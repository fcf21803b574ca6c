from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_exists

from accounts.models import User
from tenants.models import Tenant
from tenants.routing import tenant_for_host


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


def tls_certificate_allowed(*, hostname: str) -> bool:
    """May the proxy obtain a certificate for this (lowercase) hostname? The public host, and the hosts of
    workspaces that exist: closed ones too until they are purged (their "closed" page is served over HTTPS);
    never spares, the template or an unknown name. From the routing cache: no SQL when warm."""
    if hostname == settings.BASE_DOMAIN:
        return True
    tenant = tenant_for_host(hostname)
    return tenant is not None and tenant.kind == Tenant.Kind.WORKSPACE
