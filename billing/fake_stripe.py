"""A stand-in for Stripe's HTTP API (API version 2024-06-20), for tests and for trying billing offline.

- Tests install `FakeStripeClient` as stripe-python's HTTP client: our code runs unchanged down to
  stripe-python, and the tests read what was sent (`calls`) and set what Stripe "knows" (`put`).
- With `STRIPE_FAKE=1` (development only; production refuses it), the same engine answers at
  `/fake-stripe/v1/...` on the public host (`STRIPE_API_BASE` points stripe-python and dj-stripe there),
  with a Checkout page whose "Pay" creates the subscription and its first invoice and sends the signed
  webhooks a real Stripe would (billing/fake_stripe_views.py).

It knows what the portal uses: customers, Checkout and Portal sessions, webhook endpoints, subscriptions
(list, retrieve, cancel at period end, cancel), invoices (retrieve, preview), prices, products, the account.
"""

import hashlib
import hmac
import json
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import stripe

ACCOUNT = {
    "id": "acct_portal_test",
    "object": "account",
    "business_profile": {"name": "Portal"},
    "charges_enabled": True,
    "country": "US",
    "default_currency": "usd",
    "details_submitted": True,
    "email": "billing@example.com",
    "payouts_enabled": True,
    "settings": {"branding": {}, "dashboard": {"display_name": "Portal"}},
    "type": "standard",
    "metadata": {},
}
MONTH = 30 * 86400


def price_object(price_id: str, *, unit_amount: int = 4900) -> dict:
    """A whole Stripe Price for an id of the form price_<plan>_<month|year>."""
    parts = price_id.split("_")
    interval = parts[-1] if parts[-1] in ("month", "year") else "month"
    product = "prod_" + "_".join(parts[1:-1] or ["plan"])
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": 1_700_000_000,
        "currency": "usd",
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product,
        "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed", "trial_period_days": None},
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def product_object(product_id: str) -> dict:
    return {
        "id": product_id,
        "object": "product",
        "active": True,
        "created": 1_700_000_000,
        "description": None,
        "images": [],
        "livemode": False,
        "metadata": {},
        "name": product_id.removeprefix("prod_").replace("_", " ").title(),
        "statement_descriptor": None,
        "type": "service",
        "unit_label": None,
        "url": None,
    }


def customer_object(customer_id: str, *, email: str, name: str, metadata: dict) -> dict:
    return {
        "id": customer_id,
        "object": "customer",
        "balance": 0,
        "created": int(time.time()),
        "currency": "usd",
        "delinquent": False,
        "email": email,
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
        "livemode": False,
        "metadata": metadata,
        "name": name,
    }


def subscription_object(
    customer: str,
    *,
    sub_id: str,
    price: str,
    status: str = "active",
    created: int | None = None,
    trial_end: int | None = None,
    cancel_at_period_end: bool = False,
    metadata: dict | None = None,
) -> dict:
    now = int(time.time())
    return {
        "id": sub_id,
        "object": "subscription",
        "created": created or now,
        "customer": customer,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "current_period_start": now,
        "current_period_end": trial_end or now + MONTH,
        "trial_end": trial_end,
        "metadata": metadata or {},
        "items": {
            "object": "list",
            "url": f"/v1/subscription_items?subscription={sub_id}",
            "has_more": False,
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "object": "subscription_item",
                    "created": now,
                    "metadata": {},
                    "quantity": 1,
                    "subscription": sub_id,
                    "price": price_object(price),
                }
            ],
        },
        "livemode": False,
        "collection_method": "charge_automatically",
        "billing_cycle_anchor": now,
        "start_date": created or now,
    }


def invoice_object(
    customer: str, *, inv_id: str, sub_id: str, status: str = "open", amount: int = 4900, attempt: int = 1
) -> dict:
    now = int(time.time())
    return {
        "id": inv_id,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "number": "INV-" + inv_id.split("_", 1)[-1].upper(),
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "currency": "usd",
        "attempt_count": attempt,
        "created": now,
        "subscription": sub_id,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{inv_id}",
        "livemode": False,
        "lines": {"object": "list", "url": f"/v1/invoices/{inv_id}/lines", "has_more": False, "data": []},
        "charge": None,
        "payment_intent": None,
        "period_start": now,
        "period_end": now,
        "subtotal": amount,
        "total": amount,
        "paid": status == "paid",
        "auto_advance": status != "paid",
        "collection_method": "charge_automatically",
        "billing_reason": "subscription_create",
        "metadata": {},
    }


def event_object(kind: str, obj: dict, *, event_id: str, created: int | None = None) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created or int(time.time()),
        "livemode": False,
        "type": kind,
        "data": {"object": obj},
    }


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe-Signature header: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def nested(params: dict, prefix: str) -> dict:
    """Stripe's form encoding flattened one level: {"metadata[a]": "1"} -> {"a": "1"}."""
    return {key[len(prefix) + 1 : -1]: value for key, value in params.items() if key.startswith(f"{prefix}[")}


def _list(url: str, data: list) -> dict:
    return {"object": "list", "url": url, "has_more": False, "data": data}


def _error(status: int, message: str, code: str = "") -> tuple[int, dict]:
    return status, {"error": {"type": "invalid_request_error", "code": code or None, "message": message}}


class FakeStripeAPI:
    """The engine: `handle(method, path, params)` answers (status, body) as Stripe would."""

    def __init__(self, *, page_base: str = "", store: Path | None = None):
        # Where the Checkout and Portal pages live; Stripe's own hosts when no page server is attached.
        self.checkout_base = f"{page_base}/checkout/" if page_base else "https://checkout.stripe.com/c/pay/"
        self.portal_base = f"{page_base}/portal/" if page_base else "https://billing.stripe.com/p/session/"
        self.store = store
        self.requests: list[dict] = []
        self.down = False
        self.objects: dict[str, dict] = {}
        self._last_id = 0
        self._lock = threading.RLock()
        if store and store.exists():
            saved = json.loads(store.read_text())
            self.objects, self._last_id = saved["objects"], saved["last_id"]

    def put(self, obj: dict, key: str | None = None) -> dict:
        """Make `obj` Stripe's current state of its object (a copy: later changes to `obj` do not leak)."""
        with self._lock:
            self.objects[key or obj["id"]] = json.loads(json.dumps(obj))
        return obj

    def calls(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def _next(self) -> int:
        self._last_id += 1
        return self._last_id

    def _save(self) -> None:
        """Keep the state on disk (the development server's store): once per change."""
        if self.store:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            self.store.write_text(json.dumps({"objects": self.objects, "last_id": self._last_id}))

    def handle(self, method: str, path: str, params: dict, headers: dict | None = None) -> tuple[int, dict]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "params": params, "headers": dict(headers or {})})
            status, body = self._route(method, path, params)
            if method in ("POST", "DELETE"):
                self._save()
            return status, body

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        n = self._next()
        if (method, path) == ("POST", "/v1/customers"):
            customer = customer_object(
                f"cus_test{n}",
                email=params.get("email", ""),
                name=params.get("name", ""),
                metadata=nested(params, "metadata"),
            )
            return 200, self.put(customer)
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            session = {
                "id": f"cs_test_{n}",
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "url": f"{self.checkout_base}cs_test_{n}",
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": nested(params, "metadata"),
                "price": params.get("line_items[0][price]"),
                "trial_end": params.get("subscription_data[trial_end]"),
                "status": "open",
                "subscription": None,
                "livemode": False,
            }
            return 200, self.put(session)
        if method == "POST" and path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
            return self._checkout_session_expire(path.split("/")[4])
        if (method, path) == ("POST", "/v1/billing_portal/sessions"):
            session = {
                "id": f"bps_test{n}",
                "object": "billing_portal.session",
                "customer": params.get("customer"),
                "url": f"{self.portal_base}test_{n}",
                "return_url": params.get("return_url"),
                "livemode": False,
            }
            return 200, self.put(session, key=f"test_{n}")
        if (method, path) == ("POST", "/v1/webhook_endpoints"):
            endpoint = {
                "id": f"we_test{n}",
                "object": "webhook_endpoint",
                "url": params.get("url"),
                "status": "enabled",
                "secret": f"whsec_test{n}secret",
                "livemode": False,
                "api_version": params.get("api_version"),
                "enabled_events": [v for k, v in params.items() if k.startswith("enabled_events")],
                "metadata": nested(params, "metadata"),
            }
            return 200, self.put(endpoint)
        if method == "DELETE" and path.startswith("/v1/webhook_endpoints/"):
            endpoint_id = path.rsplit("/", 1)[1]
            self.objects.pop(endpoint_id, None)
            return 200, {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}
        if (method, path) == ("POST", "/v1/invoices/create_preview"):
            preview = self.objects.get(f"preview:{params.get('customer')}") or self._preview(params.get("subscription"))
            return (200, preview) if preview else _error(404, "No upcoming invoice", "invoice_upcoming_none")
        if method in ("POST", "DELETE") and path.startswith("/v1/subscriptions/"):
            return self._subscription_change(method, path.removeprefix("/v1/subscriptions/"), params)
        if method == "GET":
            return self._get(path, params)
        return _error(404, f"Unrecognized request URL ({method} {path})")

    def _checkout_session_expire(self, session_id: str) -> tuple[int, dict]:
        session = self.objects.get(session_id)
        if session is None:
            return _error(404, "No such checkout session", "resource_missing")
        session["status"] = "expired"
        return 200, session

    def _subscription_change(self, method: str, subscription_id: str, params: dict) -> tuple[int, dict]:
        """DELETE cancels the subscription now; a POST may set cancel_at_period_end."""
        sub = self.objects.get(subscription_id)
        if sub is None:
            return _error(404, "No such subscription", "resource_missing")
        if method == "DELETE":
            sub["status"] = "canceled"
        elif "cancel_at_period_end" in params:
            sub["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
        return 200, sub

    def _preview(self, subscription_id: str | None) -> dict | None:
        """The next invoice of a renewing subscription: its price, at the end of the current period."""
        sub = self.objects.get(subscription_id or "")
        if not sub or sub.get("cancel_at_period_end") or sub.get("status") not in ("trialing", "active", "past_due"):
            return None
        price = sub["items"]["data"][0]["price"]
        return {
            "id": f"upcoming_in_{sub['id']}",
            "object": "invoice",
            "customer": sub["customer"],
            "subscription": sub["id"],
            "amount_due": price["unit_amount"],
            "currency": price["currency"],
            "next_payment_attempt": sub["current_period_end"],
            "period_end": sub["current_period_end"],
        }

    def _get(self, path: str, params: dict) -> tuple[int, dict]:
        if path == "/v1/account":
            return 200, ACCOUNT
        if path == "/v1/webhook_endpoints":
            return 200, _list(path, self.webhook_endpoints())
        if path.startswith("/v1/products/") and path.endswith("/features"):
            return 200, _list(path, [])
        if path == "/v1/checkout/sessions":
            sessions = [
                obj
                for obj in self.objects.values()
                if obj.get("object") == "checkout.session"
                and obj.get("customer") == params.get("customer")
                and obj.get("status") == params.get("status", obj.get("status"))
            ]
            return 200, _list(path, sessions)
        if path == "/v1/subscriptions":
            customer = params.get("customer")
            subscriptions = [
                o for o in self.objects.values() if o.get("object") == "subscription" and o.get("customer") == customer
            ]
            return 200, _list(path, subscriptions)
        object_id = path.rsplit("/", 1)[1]
        if path.startswith("/v1/prices/") and object_id not in self.objects:
            self.put(price_object(object_id))
        if path.startswith("/v1/products/") and object_id not in self.objects:
            self.put(product_object(object_id))
        for prefix in ("/v1/subscriptions/", "/v1/invoices/", "/v1/customers/", "/v1/prices/", "/v1/products/"):
            if path.startswith(prefix):
                obj = self.objects.get(object_id)
                return (200, obj) if obj else _error(404, f"No such object: {object_id}", "resource_missing")
        return _error(404, f"Unrecognized request URL (GET {path})")

    def checkout_complete(self, session_id: str) -> list[dict]:
        """The customer paid on the Checkout page: the subscription (trialing until the session's trial end,
        else active) and its first invoice exist, and here are the events Stripe would send."""
        with self._lock:
            session = self.objects[session_id]
            if session["status"] != "open":
                return []  # paid already, or expired by a later Checkout
            n = self._next()
            trial_end = int(session["trial_end"]) if session.get("trial_end") else None
            customer = session["customer"]
            subscription = subscription_object(
                customer,
                sub_id=f"sub_fake{n}",
                price=session["price"],
                status="trialing" if trial_end else "active",
                trial_end=trial_end,
                metadata=session.get("metadata"),
            )
            amount = 0 if trial_end else subscription["items"]["data"][0]["price"]["unit_amount"]
            invoice = invoice_object(
                customer, inv_id=f"in_fake{n}", sub_id=subscription["id"], status="paid", amount=amount
            )
            session.update(status="complete", subscription=subscription["id"])
            self.put(subscription)
            self.put(invoice)
            self.put(session)
            self._save()
            return [
                event_object("checkout.session.completed", session, event_id=f"evt_fake{n}a"),
                event_object("customer.subscription.created", subscription, event_id=f"evt_fake{n}b"),
                event_object("invoice.paid", invoice, event_id=f"evt_fake{n}c"),
            ]

    def webhook_endpoints(self) -> list[dict]:
        return [o for o in self.objects.values() if o.get("object") == "webhook_endpoint"]


class FakeStripeClient(stripe.HTTPClient):
    """stripe-python's HTTP client answering from a FakeStripeAPI in the same process (the tests)."""

    name = "fake-stripe"

    def __init__(self, api: FakeStripeAPI | None = None):
        super().__init__()
        self.api = api or FakeStripeAPI()

    # What tests read and set, straight from the engine.
    put = property(lambda self: self.api.put)
    calls = property(lambda self: self.api.calls)
    objects = property(lambda self: self.api.objects)
    requests = property(lambda self: self.api.requests)

    @property
    def down(self) -> bool:
        return self.api.down

    @down.setter
    def down(self, value: bool) -> None:
        self.api.down = value

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        params = dict(parse_qsl(post_data or parts.query, keep_blank_values=True))
        if self.api.down:
            raise stripe.APIConnectionError("Could not connect to Stripe (fake outage).")
        status, body = self.api.handle(method.upper(), parts.path, params, headers)
        return json.dumps(body), status, {"request-id": f"req_{len(self.api.requests)}"}

    def close(self):
        pass
