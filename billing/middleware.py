from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import render

from billing.access import Outcome, decide, page_of, refuses_every_page, workspace_state

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WorkspaceAccessMiddleware:
    """Asks the access policy (billing/access.py) before every view of a workspace and answers its refusals:
    402 when a subscription is needed, 403 when suspended or closed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.is_workspace:
            request.workspace_state = workspace_state(tenant)
            if refuses_every_page(request.workspace_state):
                return self._suspended(request, tenant, role=None)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        state = getattr(request, "workspace_state", None)
        if state is None or request.resolver_match is None:
            return None
        tenant = request.tenant
        user = request.user
        role = user.role if user.is_authenticated else None
        match = request.resolver_match
        outcome = decide(
            state=state,
            role=role,
            page=page_of(namespace=match.namespace, url_name=match.url_name),
            write=request.method not in SAFE_METHODS,
        )
        if outcome == Outcome.ALLOW:
            return None
        if request.path.startswith("/api/"):
            status = 402 if outcome == Outcome.PAYMENT_REQUIRED else 403
            return JsonResponse({"error": str(outcome), "message": "This workspace is not available."}, status=status)
        if outcome == Outcome.PAYMENT_REQUIRED:
            context = {"workspace": tenant, "is_owner": role == "owner"}
            return render(request, "billing/payment_required.html", context, status=402)
        if outcome == Outcome.SUSPENDED:
            return self._suspended(request, tenant, role=role)
        if outcome == Outcome.CLOSED_LOG_OUT:
            logout(request)
        return render(request, "tenants/closed.html", {"tenant": tenant}, status=403)

    @staticmethod
    def _suspended(request, tenant, *, role: str | None):
        context = {"tenant": tenant, "by_billing": tenant.suspended_by == "billing", "is_owner": role == "owner"}
        return render(request, "tenants/suspended.html", context, status=403)
