import itertools
import json
import uuid

import pytest
from djstripe.models import WebhookEndpoint

from billing.fake_stripe import customer_object, event_object, invoice_object, sign, subscription_object
from billing.models import BillingAccount, Plan
from tests.conftest import host_client

_event_ids = itertools.count(1)


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


def event(kind: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> dict:
    return event_object(kind, obj, event_id=event_id or f"evt_test_{next(_event_ids)}", created=created)


def subscription(
    customer: str,
    *,
    status: str = "active",
    price: str = "price_growth_month",
    sub_id: str = "sub_test1",
    cancel_at_period_end: bool = False,
    trial_end: int | None = None,
    created: int | None = None,
) -> dict:
    return subscription_object(
        customer,
        sub_id=sub_id,
        price=price,
        status=status,
        created=created,
        trial_end=trial_end,
        cancel_at_period_end=cancel_at_period_end,
    )


def invoice(
    customer: str,
    *,
    inv_id: str = "in_test1",
    status: str = "open",
    amount: int = 4900,
    attempt: int = 1,
    sub_id: str = "sub_test1",
) -> dict:
    return invoice_object(customer, inv_id=inv_id, sub_id=sub_id, status=status, amount=amount, attempt=attempt)
