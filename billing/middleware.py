from django.shortcuts import render

from billing.selectors import payment_required

ALWAYS_OPEN = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "terms",
    "privacy",
}


class PaymentRequiredMiddleware:
    """When a workspace's trial ended without a subscription, or Stripe cancelled it, nothing works but
    logging in and out, the legal pages, and Billing for its owners."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None or not request.resolver_match or not payment_required(tenant):
            return None
        match = request.resolver_match
        if match.url_name in ALWAYS_OPEN:
            return None
        is_owner = request.user.is_authenticated and request.user.role == "owner"
        if is_owner and match.namespace == "billing":
            return None
        return render(request, "billing/payment_required.html", {"is_owner": is_owner}, status=402)
