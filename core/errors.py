"""The 500 handler of both URLconfs: an outage of a backing service answers 503, anything else the usual 500.

Django calls `handler500` inside the `except` block of whatever raised, in a view or in any middleware
(every middleware is wrapped by `convert_exception_to_response`), so `sys.exc_info()` names the error.
PostgreSQL unreachable or restarting (django.db OperationalError or InterfaceError, wherever raised:
routing's hostname lookup, sessions, authentication, a view) and Redis unreachable where the code does
not tolerate it (the login and password-reset throttles: they fail closed) are "try again in a few
seconds": 503 with Retry-After and a page rendered without any request context, so it needs neither the
database nor the cache (no context processor runs, no user is looked up). CONN_HEALTH_CHECKS drops a dead
connection at the next request, so the processes recover by themselves once the service is back.
"""

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_AFTER_SECONDS = 5
CACHE_UNAVAILABLE_ERRORS = (RedisConnectionError, RedisTimeoutError)
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, *CACHE_UNAVAILABLE_ERRORS)


def is_unavailable(error: BaseException | None) -> bool:
    """Is this error (or one it was raised from) a backing service being unreachable?"""
    for _ in range(10):
        if error is None:
            return False
        if isinstance(error, UNAVAILABLE_ERRORS):
            return True
        error = error.__cause__
    return False


def unavailable(request) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": "unavailable", "retry_after": RETRY_AFTER_SECONDS}, status=503)
    else:
        context = {
            "APP_NAME": settings.APP_NAME,
            "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
            "retry_after": RETRY_AFTER_SECONDS,
        }
        response = HttpResponse(loader.render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, template_name: str = "500.html") -> HttpResponse:
    if is_unavailable(sys.exc_info()[1]):
        return unavailable(request)
    return defaults.server_error(request, template_name=template_name)
