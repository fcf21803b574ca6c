"""The Stripe calls we make, in one place: pinned API version, a timeout, idempotency keys, and one
error type (`BillingUnavailable`) for anything that goes wrong on the way, so views can show a "try
again" page instead of a 500."""

from datetime import timedelta

import stripe
from django.conf import settings
from django.utils import timezone

from billing.models import BillingAccount, Plan


class BillingUnavailable(Exception):
    """Stripe could not be asked (network, rate limit, Stripe's own 5xx): trying again later can work."""


class StripeRefused(BillingUnavailable):
    """Stripe answered that the request itself is wrong (unknown object, bad parameter, revoked key):
    retrying the same thing will not help. Pages show it like an outage; webhooks record it and move on."""


class BillingNotConfigured(BillingUnavailable):
    pass


class SubscriptionExists(Exception):
    """The customer already has a subscription that pays (or is about to): a new Checkout would bill twice."""


# Stripe subscription statuses in which the customer pays, or will: the workspace follows such a one.
LIVE_STATUSES = ("trialing", "active", "past_due", "unpaid")
# Stripe needs a Checkout trial to end at least 48 hours ahead; with less left, the first charge is at once.
CHECKOUT_TRIAL_MINIMUM = timedelta(hours=48)


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client_options() -> dict:
    if not configured():
        raise BillingNotConfigured("Stripe keys are not configured.")
    return {"api_key": settings.STRIPE_SECRET_KEY, "stripe_version": settings.STRIPE_API_VERSION}


def http_client_install() -> None:
    """One shared client with a timeout and no retries (a person is waiting); dj-stripe uses it too.
    Tests replace it with a fake that speaks Stripe's wire format."""
    stripe.default_http_client = stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
    stripe.max_network_retries = 0
    stripe.api_base = settings.STRIPE_API_BASE


def _stripe_error(error: stripe.StripeError) -> BillingUnavailable:
    transient = isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError))
    if transient or (error.http_status or 0) >= 500:
        return BillingUnavailable(str(error))
    return StripeRefused(str(error))


def _call(function, **params):
    try:
        return function(**_client_options(), **params)
    except stripe.StripeError as error:
        raise _stripe_error(error) from error


def customer_ensure(account: BillingAccount) -> str:
    """The workspace's Stripe customer, created once (the idempotency key makes a retry harmless)."""
    if account.stripe_customer_id:
        return account.stripe_customer_id
    tenant = account.tenant
    customer = _call(
        stripe.Customer.create,
        email=tenant.email,
        name=tenant.business_name,
        # djstripe_subscriber links the customer to the Tenant for dj-stripe's own sync.
        metadata={"tenant_id": str(tenant.pk), "subdomain": tenant.subdomain, "djstripe_subscriber": str(tenant.pk)},
        idempotency_key=f"customer-tenant-{tenant.pk}",
    )
    account.stripe_customer_id = customer["id"]
    account.save(update_fields=["stripe_customer_id"])
    return customer["id"]


def checkout_session_create(
    *, account: BillingAccount, plan: Plan, interval: str, success_url: str, cancel_url: str, attempt: str
) -> str:
    """A Checkout session in subscription mode for this workspace; returns the URL to send the owner to.
    `attempt` identifies one click, so a double submit reuses the same session."""
    _client_options()  # refuses first when Stripe is not configured
    price = plan.price_id(interval)
    if not price:
        raise BillingUnavailable(f"The {plan.name} plan has no Stripe price for {interval}ly billing yet.")
    tenant = account.tenant
    customer = customer_ensure(account)
    pending = [sub for sub in subscriptions_of(customer) if sub.get("status") in (*LIVE_STATUSES, "incomplete")]
    if pending:
        raise SubscriptionExists(pending[0]["id"])
    # Sessions opened by earlier clicks (another tab, monthly then yearly) could each still be paid: expire
    # them. Not this click's own (a double submit gets it back through the idempotency key).
    for session in _call(stripe.checkout.Session.list, customer=customer, status="open", limit=20)["data"]:
        if (session.get("metadata") or {}).get("attempt") != attempt:
            _call(stripe.checkout.Session.expire, session=session["id"])
    metadata = {"tenant_id": str(tenant.pk), "plan": plan.slug, "djstripe_subscriber": str(tenant.pk)}
    subscription_data: dict[str, object] = {"metadata": metadata}
    metadata = {**metadata, "attempt": attempt}
    trial_end = tenant.trial_ends_at if tenant.status == tenant.Status.TRIALING else None
    if trial_end and trial_end - timezone.now() >= CHECKOUT_TRIAL_MINIMUM:
        subscription_data["trial_end"] = int(trial_end.timestamp())  # the trial's remaining days are kept
    session = _call(
        stripe.checkout.Session.create,
        mode="subscription",
        customer=customer,
        client_reference_id=str(tenant.pk),
        line_items=[{"price": price, "quantity": 1}],
        success_url=success_url,
        cancel_url=cancel_url,
        metadata=metadata,
        subscription_data=subscription_data,
        idempotency_key=f"checkout-{tenant.pk}-{plan.slug}-{interval}-{attempt}",
    )
    return session["url"]


def portal_session_create(*, account: BillingAccount, return_url: str, attempt: str, change_plan: bool = False) -> str:
    """The Customer Portal; with `change_plan`, straight to changing the plan of the current subscription
    (Stripe shows the prorated amount before the owner confirms)."""
    params = {}
    if change_plan and account.stripe_subscription_id:
        params["flow_data"] = {
            "type": "subscription_update",
            "subscription_update": {"subscription": account.stripe_subscription_id},
            "after_completion": {"type": "redirect", "redirect": {"return_url": return_url}},
        }
    session = _call(
        stripe.billing_portal.Session.create,
        customer=customer_ensure(account),
        return_url=return_url,
        idempotency_key=f"portal-{account.tenant_id}-{attempt}{'-plan' if params else ''}",
        **params,
    )
    return session["url"]


# Reading back: on every subscription or invoice event we ask Stripe for the object as it is now, so the
# order in which events arrive stops mattering (Stripe's own advice). A failure here makes the webhook
# answer 503, and Stripe delivers the event again later.


def subscriptions_of(customer_id: str) -> list[dict]:
    """The customer's subscriptions in every status, newest first."""
    page = _call(stripe.Subscription.list, customer=customer_id, status="all", limit=20)
    return sorted(page["data"], key=lambda sub: sub.get("created") or 0, reverse=True)


def account_get() -> dict:
    """The Stripe account the secret key belongs to (Stripe refuses an unknown or revoked key: StripeRefused)."""
    return _call(stripe.Account.retrieve)


def webhook_endpoints_list() -> list[dict]:
    """The account's webhook endpoints in the key's mode (Stripe allows 16 per account: one page)."""
    return list(_call(stripe.WebhookEndpoint.list, limit=100)["data"])


def invoice_get(invoice_id: str) -> dict:
    # Discounts expanded: dj-stripe's mirror expects objects there, not ids.
    return _call(stripe.Invoice.retrieve, id=invoice_id, expand=["discounts"])


def subscription_cancel_at_period_end(subscription_id: str, *, cancel: bool) -> dict:
    """Stop (or resume) renewal: the subscription runs to the end of the period already paid."""
    # No idempotency key: setting the flag is idempotent by value, and a key reused within Stripe's 24 hours
    # would replay an earlier answer (close, reopen, close again would not stop the renewal).
    return _call(stripe.Subscription.modify, id=subscription_id, cancel_at_period_end=cancel)


def subscription_cancel(subscription_id: str) -> dict:
    """End it now (the workspace is deleted): no further invoice."""
    return _call(stripe.Subscription.cancel, subscription_exposed_id=subscription_id)


def invoice_preview(*, customer_id: str, subscription_id: str) -> dict | None:
    """The subscription's next invoice as Stripe will issue it (proration, discounts and tax included), or
    None when there is none."""
    try:
        preview = stripe.Invoice.create_preview(**_client_options(), customer=customer_id, subscription=subscription_id)
        return preview.to_dict()
    except stripe.StripeError as error:
        if getattr(error, "code", None) == "invoice_upcoming_none":
            return None
        raise _stripe_error(error) from error


def djstripe_sync(model, data):
    """Mirror a Stripe object into dj-stripe's table with its own sync (which fetches related objects: the
    customer, prices, products). Any Stripe error on the way is BillingUnavailable, like our own calls."""
    try:
        return model.sync_from_stripe_data(data, api_key=_client_options()["api_key"])
    except stripe.StripeError as error:
        raise _stripe_error(error) from error


def without_lines(invoice):
    """The invoice without its line items: dj-stripe 2.11 iterates them in a way stripe-python 15's objects
    refuse ("StripeObject is not iterable"). The lines stay readable in the invoice's stripe_data at Stripe;
    the mirror keeps totals, status and links."""
    data = invoice.to_dict() if hasattr(invoice, "to_dict") else dict(invoice)
    data.pop("lines", None)
    return stripe.Invoice.construct_from(data, _client_options()["api_key"])
