from django.conf import settings

from core.db import connection
from tenants.models import Tenant
from tenants.routing import tenant_for_host


def current_workspace():
    """The Tenant whose schema the connection is on: the request's, or (in commands and jobs using
    schema_context, which sets a stand-in) looked up by schema name."""
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
