import uuid
from datetime import UTC, datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import role_required
from billing import stripe_api
from billing.models import Plan, money
from billing.selectors import payment_required, plan_for
from billing.services import account_for
from core.links import workspace_url


def _unavailable(request, error: stripe_api.BillingUnavailable):
    not_configured = isinstance(error, stripe_api.BillingNotConfigured)
    return render(request, "billing/unavailable.html", {"not_configured": not_configured}, status=503)


@role_required(User.Role.OWNER)
def billing(request):
    tenant = request.tenant
    account = account_for(tenant)
    plan = plan_for(tenant)
    context = {
        "tenant": tenant,
        "account": account,
        "plan": plan,
        "plans": Plan.objects.public(),
        "next_invoice": _next_invoice(account),
        "invoices": tenant.invoices.all()[:24],
        "configured": stripe_api.configured(),
        "payment_required": payment_required(tenant),
        # A live subscription changes plan in the Portal; a new Checkout would start a second one.
        "subscribed": account.subscription_status in stripe_api.LIVE_STATUSES,
    }
    return render(request, "billing/billing.html", context)


def _next_invoice(account) -> dict | None:
    """Stripe's preview of the next invoice ({"amount", "date"}), {"unavailable": True} when Stripe cannot
    be asked right now, None when nothing renews."""
    renews = account.subscription_status in stripe_api.LIVE_STATUSES and not account.cancel_at_period_end
    if not renews or not stripe_api.configured():
        return None
    try:
        preview = stripe_api.invoice_preview(
            customer_id=account.stripe_customer_id, subscription_id=account.stripe_subscription_id
        )
    except stripe_api.BillingUnavailable:
        return {"unavailable": True}
    if preview is None:
        return None
    when = preview.get("next_payment_attempt") or preview.get("period_end")
    return {
        "amount": money(preview.get("amount_due") or 0, preview.get("currency") or "usd"),
        "date": datetime.fromtimestamp(when, tz=UTC) if when else None,
    }


@role_required(User.Role.OWNER)
@require_POST
def checkout(request):
    plan = Plan.objects.public().filter(slug=request.POST.get("plan", "")).first()
    interval = request.POST.get("interval", "month")
    if plan is None or interval not in ("month", "year"):
        messages.error(request, "Choose one of the plans below.")
        return redirect("billing:billing")
    try:
        url = stripe_api.checkout_session_create(
            account=account_for(request.tenant),
            plan=plan,
            interval=interval,
            success_url=workspace_url(request.tenant.subdomain, "/billing/return/?result=success"),
            cancel_url=workspace_url(request.tenant.subdomain, "/billing/return/?result=cancel"),
            attempt=request.POST.get("attempt") or uuid.uuid4().hex,
        )
    except stripe_api.SubscriptionExists:
        messages.info(
            request,
            "You already have a subscription, so a new one would bill you twice. Change its plan with "
            "“Change plan” below; Stripe shows the prorated amount before you confirm.",
        )
        return redirect("billing:billing")
    except stripe_api.BillingUnavailable as error:
        return _unavailable(request, error)
    return redirect(url)


@role_required(User.Role.OWNER)
@require_POST
def portal(request):
    try:
        url = stripe_api.portal_session_create(
            account=account_for(request.tenant),
            return_url=workspace_url(request.tenant.subdomain, "/billing/"),
            attempt=request.POST.get("attempt") or uuid.uuid4().hex,
            change_plan=request.POST.get("flow") == "change_plan",
        )
    except stripe_api.BillingUnavailable as error:
        return _unavailable(request, error)
    return redirect(url)


@role_required(User.Role.OWNER)
def checkout_return(request):
    if request.GET.get("result") == "success":
        messages.success(request, "Thank you! Your subscription starts as soon as Stripe confirms the payment.")
    else:
        messages.info(request, "Checkout was cancelled; nothing was charged.")
    return redirect("billing:billing")


def landing(request):
    """The public home page: what the product costs, and the way to sign up."""
    return render(request, "billing/landing.html", {"plans": Plan.objects.public()})
