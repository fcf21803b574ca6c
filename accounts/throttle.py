"""Brute-force throttles for login and password reset (django-ratelimit on the shared cache).

Two counters per attempt: the client's IP across every host, and the account (an email within this
workspace). Both count attempts whether or not the account exists, so a throttled answer says
nothing about who has an account."""

from django.conf import settings
from django.db import connection
from django_ratelimit.core import is_ratelimited

from config.http import client_ip


def attempt_throttled(request, *, email: str, group: str) -> bool:
    by_ip = is_ratelimited(
        request,
        group=f"{group}-ip",
        key=lambda _group, req: client_ip(req) or "unknown",
        rate=settings.LOGIN_RATE_PER_IP,
        increment=True,
    )
    by_account = is_ratelimited(
        request,
        group=f"{group}-account",
        key=lambda _group, _req: f"{connection.schema_name}:{email.strip().lower()}",
        rate=settings.LOGIN_RATE_PER_ACCOUNT,
        increment=True,
    )
    return by_ip or by_account
