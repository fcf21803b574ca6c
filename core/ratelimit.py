"""The global request limit per client (RATE_LIMIT_GLOBAL, "100/15m" as the seed asks; "off" turns it off):
every host, every page, counted per client address (an IPv6 client per /64) on the shared cache, before
any database work. Over it: 429 with Retry-After, as a page or, for the API, as JSON. Static files never
reach this middleware (WhiteNoise answers first); webhooks from Stripe and the email provider are exempt."""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from core.http import client_key

logger = logging.getLogger(__name__)

EXEMPT_PREFIXES = ("/stripe/webhook/", "/anymail/", "/static/", "/health")


def _key(_group, request) -> str:
    return client_key(request)


class GlobalRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rate = settings.RATE_LIMIT_GLOBAL
        if rate == "off" or request.path.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        try:
            usage = get_usage(request, group="global", key=_key, rate=rate, increment=True)
        except Exception as error:
            # The shared cache is down: serve rather than refuse everyone (login throttles stay closed).
            logger.warning("global request limit unavailable; serving without it: %r", error)
            return self.get_response(request)
        if usage is None or not usage["should_limit"]:
            return self.get_response(request)
        retry_after = str(max(1, int(usage["time_left"])))
        response: HttpResponse
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": "too_many_requests", "retry_after": int(retry_after)}, status=429)
        else:
            response = render(request, "429.html", {"retry_after": int(retry_after)}, status=429)
        response["Retry-After"] = retry_after
        return response
