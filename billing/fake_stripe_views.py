"""STRIPE_FAKE=1 (development only): the fake Stripe of billing/fake_stripe.py served at /fake-stripe/ on the
public host. stripe-python and dj-stripe talk to /fake-stripe/v1/... (STRIPE_API_BASE), owners see a
Checkout page whose "Pay" sends the signed webhooks Stripe would, and a Portal page. Its state is kept in
.data/fake-stripe.json, so it survives a restart of `make run`."""

import json
import logging
from functools import cache

import requests
from django.conf import settings
from django.core.management import call_command
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from billing.fake_stripe import FakeStripeAPI, sign
from billing.models import Plan

logger = logging.getLogger(__name__)


@cache
def engine() -> FakeStripeAPI:
    return FakeStripeAPI(page_base=f"{settings.APP_URL}/fake-stripe", store=settings.STRIPE_FAKE_STORE)


def _enabled() -> None:
    if not settings.STRIPE_FAKE:
        raise Http404("The fake Stripe is off (STRIPE_FAKE).")


@csrf_exempt
def api(request, path: str):
    """Stripe's REST API: form-encoded parameters in the body (POST) or the query (GET, DELETE)."""
    _enabled()
    params = dict(request.POST.items()) if request.method == "POST" else dict(request.GET.items())
    status, body = engine().handle(request.method, f"/v1/{path}", params, dict(request.headers))
    return JsonResponse(body, status=status)


def checkout(request, session_id: str):
    _enabled()
    session = engine().objects.get(session_id)
    if session is None or session.get("object") != "checkout.session":
        raise Http404("No such Checkout session.")
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return redirect(session["cancel_url"])
        events = engine().checkout_complete(session_id)
        _deliver(events)
        return redirect(session["success_url"])
    plan = (
        Plan.objects.filter(stripe_price_monthly=session["price"]).first()
        or Plan.objects.filter(stripe_price_yearly=session["price"]).first()
    )
    return render(request, "billing/fake/checkout.html", {"session": session, "plan": plan})


def portal(request, session_id: str):
    _enabled()
    session = engine().objects.get(session_id)
    if session is None or session.get("object") != "billing_portal.session":
        raise Http404("No such Portal session.")
    return render(request, "billing/fake/portal.html", {"session": session})


def _deliver(events: list[dict]) -> None:
    """POST each event, signed, to every webhook endpoint the fake knows (made by `stripe_setup`)."""
    if not engine().webhook_endpoints():
        call_command("stripe_setup")  # the first payment sets the endpoint up, as an operator would
    for endpoint in engine().webhook_endpoints():
        for event in events:
            payload = json.dumps(event)
            response = requests.post(
                endpoint["url"],
                data=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, endpoint["secret"])},
                timeout=30,
            )
            logger.info("fake Stripe sent %s to %s: %s", event["type"], endpoint["url"], response.status_code)
