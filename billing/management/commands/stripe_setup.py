import uuid

import stripe
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from djstripe.models import WebhookEndpoint

from billing import stripe_api
from billing.webhooks import HANDLED_EVENTS
from core.links import public_url

EVENTS = HANDLED_EVENTS  # exactly the events billing/webhooks.py acts on


class Command(BaseCommand):
    help = (
        "Create this site's webhook endpoint in Stripe (for the mode of STRIPE_SECRET_KEY) and store its "
        "signing secret. Safe to run again: an existing endpoint is kept unless --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace", action="store_true", help="Create a new endpoint and delete the old one (in Stripe too)."
        )

    def handle(self, *args, replace, **options):
        if not stripe_api.configured():
            raise CommandError("Set STRIPE_SECRET_KEY first (start with a test key, sk_test_...).")
        existing = WebhookEndpoint.objects.filter(livemode=settings.STRIPE_LIVE_MODE).first()
        if existing and not replace:
            self.stdout.write(f"Webhook endpoint already set up: {existing.url}")
            return
        endpoint_uuid = uuid.uuid4()
        url = public_url(reverse("stripe_webhook", urlconf="config.urls_public", kwargs={"uuid": endpoint_uuid}))
        try:
            endpoint = stripe.WebhookEndpoint.create(
                url=url,
                enabled_events=EVENTS,  # type: ignore[arg-type]  # str names; the stub wants Literals
                api_version=settings.STRIPE_API_VERSION,
                metadata={"djstripe_uuid": str(endpoint_uuid)},
                api_key=settings.STRIPE_SECRET_KEY,
                stripe_version=settings.STRIPE_API_VERSION,
                idempotency_key=f"webhook-endpoint-{endpoint_uuid}",
            )
        except stripe.StripeError as error:
            raise CommandError(f"Stripe refused: {error}") from error
        created = endpoint.to_dict()
        WebhookEndpoint.objects.create(
            id=created["id"],
            livemode=bool(created.get("livemode")),
            url=url,
            secret=created["secret"],
            api_version=settings.STRIPE_API_VERSION,
            enabled_events=EVENTS,
            status=created.get("status", "enabled"),
            metadata={"djstripe_uuid": str(endpoint_uuid)},
            djstripe_uuid=endpoint_uuid,
        )
        self.stdout.write(f"Created webhook endpoint {created['id']} at {url}; its signing secret is stored.")
        if existing:
            # The old endpoint would go on receiving every event (and its secret stay valid): delete it.
            try:
                stripe.WebhookEndpoint.delete(
                    existing.id, api_key=settings.STRIPE_SECRET_KEY, stripe_version=settings.STRIPE_API_VERSION
                )
            except stripe.InvalidRequestError:
                pass  # already gone in Stripe
            except stripe.StripeError as error:
                raise CommandError(
                    f"Created the new endpoint, but Stripe refused to delete {existing.id}: {error}"
                ) from error
            existing.delete()
            self.stdout.write(f"Deleted the old endpoint {existing.id}.")
