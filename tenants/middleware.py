from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from tenants.links import public_url


class WorkspaceRoutingMiddleware(TenantMainMiddleware):
    """Picks the schema from the Host header; unknown workspaces get a friendly 404."""

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


class WorkspaceStatusMiddleware:
    """A suspended workspace answers 403 on every page, for everyone, until an operator activates it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.is_workspace and tenant.is_suspended:
            return render(request, "tenants/suspended.html", {"tenant": tenant}, status=403)
        return self.get_response(request)
