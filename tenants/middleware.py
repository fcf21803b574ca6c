from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from tenants import routing
from tenants.links import public_url


class WorkspaceRoutingMiddleware(TenantMainMiddleware):
    """Picks the schema from the Host header (cached: tenants/routing.py); unknown workspaces get a friendly 404."""

    def get_tenant(self, domain_model, hostname):
        tenant = routing.tenant_for_host(hostname)
        if tenant is None:
            raise domain_model.DoesNotExist(hostname)
        return tenant

    @staticmethod
    def hostname_from_request(request):
        return remove_www(request.get_host().split(":")[0].lower())

    def no_tenant_found(self, request, hostname):
        return render(
            request,
            "tenants/unknown_workspace.html",
            {"hostname": hostname, "signup_url": public_url("/signup/")},
            status=404,
        )
