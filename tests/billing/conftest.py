import json
import uuid

import pytest
from djstripe.models import WebhookEndpoint

from billing.fake_stripe import customer_object, sign
from billing.models import BillingAccount, Plan
from tests.support.clients import host_client


@pytest.fixture
def priced_plans(db):
    for plan in Plan.objects.all():
        plan.stripe_price_monthly = f"price_{plan.slug}_month"
        plan.stripe_price_yearly = f"price_{plan.slug}_year"
        plan.save()
    return {plan.slug: plan for plan in Plan.objects.all()}


@pytest.fixture
def acme(make_workspace, priced_plans):
    """A priced workspace (test modules may define their own)."""
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


@pytest.fixture
def cus(acme, customer_of):
    """acme's Stripe customer."""
    return customer_of(acme, "cus_acme")


@pytest.fixture
def endpoint(db):
    return WebhookEndpoint.objects.create(
        id="we_test",
        livemode=False,
        url="http://localhost/stripe/webhook/x/",
        secret="whsec_test_secret",
        api_version="2024-06-20",
        enabled_events=["*"],
        status="enabled",
        djstripe_uuid=uuid.uuid4(),
    )


@pytest.fixture
def customer_of(fake_stripe):
    """Give the workspace a Stripe customer (ours and, in the fake, Stripe's)."""

    def link(tenant, customer_id: str | None = None) -> str:
        customer_id = customer_id or f"cus_{tenant.subdomain}"
        BillingAccount.objects.update_or_create(tenant=tenant, defaults={"stripe_customer_id": customer_id})
        metadata = {"tenant_id": str(tenant.pk), "djstripe_subscriber": str(tenant.pk)}
        fake_stripe.put(customer_object(customer_id, email=tenant.email, name=tenant.business_name, metadata=metadata))
        return customer_id

    return link


@pytest.fixture
def deliver(endpoint, settings, fake_stripe):
    """POST an event to the webhook URL, signed with the endpoint's secret (or `secret`). Unless `current`
    is False, the event's object first becomes Stripe's current state of it (as when events arrive in
    order); out-of-order tests put the current state themselves and deliver stale events."""

    def post(event: dict, *, secret: str | None = None, signature: str | None = None, current: bool = True):
        obj = event["data"]["object"]
        if current and obj.get("object") in ("subscription", "invoice"):
            fake_stripe.put(obj)
        payload = json.dumps(event)
        header = signature if signature is not None else sign(payload, secret or endpoint.secret)
        return host_client(settings.BASE_DOMAIN).post(
            f"/stripe/webhook/{endpoint.djstripe_uuid}/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )

    return post
