from django.contrib.auth import logout
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from accounts.models import User
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


class ClosedWorkspaceMiddleware:
    """A workspace its owner closed is read-only, and only its owners may still use it (to export).

    Everyone else is logged out and shown why; owners can read every page, but the only writes left
    are logging in and out and resetting a password."""

    WRITES_ALLOWED = {"login", "logout", "password_reset", "password_reset_confirm"}
    CLOSED_TO_ALL = {"invitation_accept", "handoff"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None or not tenant.is_workspace or not tenant.is_closed:
            return None
        name = request.resolver_match.url_name if request.resolver_match else None
        user = request.user
        if user.is_authenticated and user.role != User.Role.OWNER:
            logout(request)
            return self._closed(request)
        if name in self.CLOSED_TO_ALL:
            return self._closed(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and name not in self.WRITES_ALLOWED:
            return self._closed(request)
        return None

    @staticmethod
    def _closed(request):
        return render(request, "tenants/closed.html", {"tenant": request.tenant}, status=403)
