"""Stripe webhooks on the public host at `stripe/webhook/<uuid>/`, one URL per dj-stripe WebhookEndpoint
(which holds the signing secret). Every delivery is logged as a dj-stripe WebhookEventTrigger; a valid
one is turned into workspace state exactly once (BillingEvent, unique by event id).

This is our view rather than dj-stripe's: with DEBUG on, dj-stripe's accepts a header that replaces the
signing secret. The payload says which objects changed; their state is read back from Stripe
(billing.services), and when Stripe cannot be reached the answer is 503 so that Stripe retries."""

import json
import logging
from datetime import UTC, datetime
from traceback import format_exc

import stripe
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from djstripe.models import WebhookEndpoint, WebhookEventTrigger

from billing import services, stripe_api
from billing.models import BillingAccount, BillingEvent
from core.http import client_ip

logger = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "checkout.session.completed",
}
INVOICE_EVENTS = {
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice.updated",
    "invoice.voided",
    "invoice.marked_uncollectible",
}
HANDLED_EVENTS = sorted(SUBSCRIPTION_EVENTS | INVOICE_EVENTS)


@csrf_exempt
@require_POST
def stripe_webhook(request, uuid):
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        return HttpResponseBadRequest("missing signature")
    endpoint = get_object_or_404(WebhookEndpoint, djstripe_uuid=uuid)
    body = request.body.decode("utf-8", errors="replace")
    trigger = WebhookEventTrigger.objects.create(
        headers=dict(request.headers), body=body, remote_ip=client_ip(request) or "0.0.0.0", webhook_endpoint=endpoint
    )
    try:
        stripe.WebhookSignature.verify_header(body, signature, endpoint.secret, endpoint.djstripe_tolerance)
        event = json.loads(body)
        event["id"], event["type"], event["created"]
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError):
        trigger.valid = False
        trigger.save(update_fields=["valid"])
        logger.warning("stripe webhook %s refused: bad signature or payload", trigger.pk)
        return HttpResponseBadRequest("invalid signature or payload")
    trigger.valid = True
    try:
        event_process(event)
    except stripe_api.StripeRefused as error:
        # Stripe refused our read-back (an object gone, a revoked key): retrying cannot help, and failing
        # for days would get the endpoint disabled. Recorded for operators, logged as an error, answered.
        trigger.exception, trigger.traceback = str(error)[:128], format_exc()
        trigger.processed = True
        trigger.save(update_fields=["valid", "processed", "exception", "traceback"])
        logger.error("stripe event %s could not be applied: %s", event.get("id"), error)
        return HttpResponse("recorded; Stripe refused the read-back")
    except stripe_api.BillingUnavailable as error:
        # We could not read the objects back from Stripe: nothing was applied; Stripe delivers it again.
        trigger.exception, trigger.traceback = str(error)[:128], format_exc()
        trigger.save(update_fields=["valid", "exception", "traceback"])
        logger.warning("stripe event %s not applied yet: %s", event.get("id"), error)
        return HttpResponse("Stripe could not be reached; retry later", status=503)
    except Exception as error:
        # Stripe retries deliveries that fail; the trigger keeps the error for operators.
        trigger.exception, trigger.traceback = str(error)[:128], format_exc()
        trigger.save(update_fields=["valid", "exception", "traceback"])
        raise
    trigger.processed = True
    trigger.save(update_fields=["valid", "processed"])
    return HttpResponse("ok")


def event_process(event: dict) -> BillingEvent:
    """Apply a verified event once; a duplicate delivery finds its BillingEvent and changes nothing."""
    with transaction.atomic():
        record, created = BillingEvent.objects.get_or_create(
            stripe_id=event["id"],
            defaults={
                "type": event.get("type", ""),
                "created": datetime.fromtimestamp(event.get("created", 0), tz=UTC),
                "result": "processing",
            },
        )
        if created:
            record.tenant, record.result = _apply(event)
            record.save(update_fields=["tenant", "result"])
            logger.info("stripe event %s %s: %s", event["id"], record.type, record.result)
    return record


def _apply(event: dict):
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    if kind not in SUBSCRIPTION_EVENTS | INVOICE_EVENTS:
        return None, "ignored: not an event we act on"
    if bool(event.get("livemode")) != settings.STRIPE_LIVE_MODE:
        mode = "live" if event.get("livemode") else "test"
        return None, f"ignored: a {mode}-mode event, and STRIPE_LIVE_MODE is {settings.STRIPE_LIVE_MODE}"
    customer = obj.get("customer")
    account = (
        BillingAccount.objects.select_related("tenant").filter(stripe_customer_id=customer).first()
        if customer
        else None
    )
    if account is None:
        return None, "ignored: no workspace has this customer"
    tenant = account.tenant
    claimed = (obj.get("metadata") or {}).get("tenant_id") or obj.get("client_reference_id")
    if claimed and claimed != str(tenant.pk):
        return tenant, "ignored: the object names another workspace than its customer's"
    if kind in SUBSCRIPTION_EVENTS:
        subscription_id = obj.get("subscription") if kind == "checkout.session.completed" else obj.get("id")
        return tenant, services.subscription_event_apply(tenant=tenant, subscription_id=subscription_id or "")
    created = datetime.fromtimestamp(event["created"], tz=UTC)
    return tenant, services.invoice_event_apply(tenant=tenant, kind=kind, invoice=obj, event_created=created)
