"""A small read-only JSON API on workspace hosts (/api/v1/), for the workspace's own front ends and the
subdomains CORS admits (config/settings/base.py). Session-authenticated like the pages: a session exists only
on the workspace that made it, so a request from another workspace's page carries no usable identity."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from accounts.models import User


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


def _api(view):
    """GET only; 401 (not a redirect to the login page) when nobody is logged in."""

    @require_GET
    def wrapped(request):
        if not request.user.is_authenticated:
            return _error(401, "not_authenticated", "Log in to this workspace first.")
        return view(request)

    wrapped.__name__ = view.__name__
    return wrapped


@_api
def me(request):
    user = request.user
    return JsonResponse({"email": user.email, "name": user.full_name, "role": user.role})


@_api
def workspace(request):
    tenant = request.tenant
    return JsonResponse(
        {
            "name": tenant.business_name,
            "plan": tenant.plan,
            "status": tenant.status,
            "trial_ends_at": tenant.trial_ends_at.isoformat() if tenant.trial_ends_at else None,
            "members": User.objects.filter(is_active=True).count(),
        }
    )


@_api
def members(request):
    """Everyone in the workspace, for its admins and owners."""
    if not request.user.has_role(User.Role.ADMIN):
        return _error(403, "forbidden", "Only admins and owners can list the members.")
    people = User.objects.order_by("date_joined")
    return JsonResponse(
        {"members": [{"email": u.email, "name": u.full_name, "role": u.role, "active": u.is_active} for u in people]}
    )
