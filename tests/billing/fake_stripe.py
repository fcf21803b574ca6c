"""A stand-in for Stripe's HTTP API, installed as stripe-python's HTTP client: it answers the endpoints we
call with JSON shaped like Stripe's (API version 2024-06-20) and records every request, so tests check
exactly what we sent. Nothing of ours is mocked: our code runs unchanged down to stripe-python."""

import hashlib
import hmac
import itertools
import json
import time
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


def price_object(price_id: str, *, unit_amount: int = 4900) -> dict:
    """A whole Stripe Price for one of the test plans' ids (price_<plan>_<month|year>)."""
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


def customer_object(customer_id: str, *, tenant) -> dict:
    return {
        "id": customer_id,
        "object": "customer",
        "balance": 0,
        "created": 1_700_000_000,
        "currency": "usd",
        "delinquent": False,
        "email": tenant.email,
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
        "livemode": False,
        "metadata": {"tenant_id": str(tenant.pk), "djstripe_subscriber": str(tenant.pk)},
        "name": tenant.business_name,
    }


def _list(url: str, data: list) -> dict:
    return {"object": "list", "url": url, "has_more": False, "data": data}


class FakeStripe(stripe.HTTPClient):
    name = "fake-stripe"

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []
        self.down = False
        self._ids = itertools.count(1)
        # Stripe's current state of the objects tests put here: what retrieve and list calls answer.
        self.objects: dict[str, dict] = {}

    def put(self, obj: dict) -> dict:
        """Make `obj` the current state of its object at Stripe (a copy: later changes to `obj` do not leak)."""
        self.objects[obj["id"]] = json.loads(json.dumps(obj))
        return obj

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        params = dict(parse_qsl(post_data or parts.query, keep_blank_values=True))
        self.requests.append(
            {"method": method.upper(), "path": parts.path, "params": params, "headers": dict(headers or {})}
        )
        if self.down:
            raise stripe.APIConnectionError("Could not connect to Stripe (fake outage).")
        n = next(self._ids)
        route = (method.upper(), parts.path)
        found = self._read(route, params)
        if found is not None:
            return found
        if route == ("POST", "/v1/customers"):
            body = {
                "id": f"cus_test{n}",
                "object": "customer",
                "email": params.get("email"),
                "name": params.get("name"),
                "metadata": _nested(params, "metadata"),
                "livemode": False,
                "created": int(time.time()),
            }
        elif route == ("POST", "/v1/checkout/sessions"):
            body = {
                "id": f"cs_test_{n}",
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}",
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "metadata": _nested(params, "metadata"),
                "status": "open",
                "livemode": False,
            }
        elif route == ("POST", "/v1/billing_portal/sessions"):
            body = {
                "id": f"bps_test{n}",
                "object": "billing_portal.session",
                "customer": params.get("customer"),
                "url": f"https://billing.stripe.com/p/session/test_{n}",
                "return_url": params.get("return_url"),
                "livemode": False,
            }
        elif route == ("POST", "/v1/webhook_endpoints"):
            body = {
                "id": f"we_test{n}",
                "object": "webhook_endpoint",
                "url": params.get("url"),
                "status": "enabled",
                "secret": f"whsec_test{n}secret",
                "livemode": False,
                "api_version": params.get("api_version"),
                "enabled_events": [v for k, v in params.items() if k.startswith("enabled_events")],
                "metadata": _nested(params, "metadata"),
            }
        else:
            error = {
                "error": {
                    "type": "invalid_request_error",
                    "message": f"Unrecognized request URL ({method} {parts.path})",
                }
            }
            return json.dumps(error), 404, {"request-id": f"req_{n}"}
        return json.dumps(body), 200, {"request-id": f"req_{n}"}

    def _read(self, route: tuple[str, str], params: dict):
        """GET /v1/subscriptions?customer=..., GET /v1/subscriptions/<id>, GET /v1/invoices/<id>; and changes
        of a stored subscription: POST /v1/subscriptions/<id> (cancel_at_period_end), DELETE (cancel now)."""
        method, path = route
        if (method, path) == ("POST", "/v1/invoices/create_preview"):
            preview = self.objects.get(f"preview:{params.get('customer')}")
            if preview is None:
                error = {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "invoice_upcoming_none",
                        "message": "No upcoming invoice",
                    }
                }
                return json.dumps(error), 404, {"request-id": "req_none"}
            return json.dumps(preview), 200, {"request-id": "req_preview"}
        if method == "DELETE" and path.startswith("/v1/webhook_endpoints/"):
            deleted = {"id": path.rsplit("/", 1)[1], "object": "webhook_endpoint", "deleted": True}
            return json.dumps(deleted), 200, {"request-id": "req_deleted"}
        if method in ("POST", "DELETE") and path.startswith("/v1/subscriptions/"):
            sub = self.objects.get(path.removeprefix("/v1/subscriptions/"))
            if sub is None:
                return None
            if method == "DELETE":
                sub["status"] = "canceled"
            elif "cancel_at_period_end" in params:
                sub["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
            return json.dumps(sub), 200, {"request-id": "req_change"}
        if method != "GET":
            return None
        if path == "/v1/account":
            return json.dumps(ACCOUNT), 200, {"request-id": "req_account"}
        if path.startswith("/v1/products/") and path.endswith("/features"):
            return json.dumps(_list(path, [])), 200, {"request-id": "req_features"}
        if path.startswith("/v1/prices/") and path.removeprefix("/v1/prices/") not in self.objects:
            self.put(price_object(path.removeprefix("/v1/prices/")))
        if path.startswith("/v1/products/") and path.removeprefix("/v1/products/") not in self.objects:
            self.put(product_object(path.removeprefix("/v1/products/")))
        if path == "/v1/subscriptions":
            subscriptions = [
                obj
                for obj in self.objects.values()
                if obj.get("object") == "subscription" and obj.get("customer") == params.get("customer")
            ]
            return json.dumps(_list(path, subscriptions)), 200, {"request-id": "req_list"}
        for prefix in ("/v1/subscriptions/", "/v1/invoices/", "/v1/customers/", "/v1/prices/", "/v1/products/"):
            if path.startswith(prefix):
                obj = self.objects.get(path.removeprefix(prefix))
                if obj is None:
                    error = {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "resource_missing",
                            "message": "No such object",
                        }
                    }
                    return json.dumps(error), 404, {"request-id": "req_missing"}
                return json.dumps(obj), 200, {"request-id": "req_get"}
        return None

    def close(self):
        pass

    def calls(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]


def _nested(params: dict, prefix: str) -> dict:
    return {key[len(prefix) + 1 : -1]: value for key, value in params.items() if key.startswith(f"{prefix}[")}


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe-Signature header: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
