"""Brute-force throttles for login and password reset (django-ratelimit on the shared cache).

Two counters: the client's IP across every host, and the account (an email within this workspace).
Both count whether or not the account exists, so a throttled answer says nothing about who has an
account. Logins count only failures (a person who logs in often is never locked out); password reset
requests all count."""

from django.conf import settings
from django.db import connection
from django_ratelimit.core import get_usage

from core.http import client_key


def _usages(request, *, email: str, group: str, increment: bool) -> list[dict]:
    counters = [
        (f"{group}-ip", lambda _group, req: client_key(req), settings.LOGIN_RATE_PER_IP),
        (
            f"{group}-account",
            lambda _group, _req: f"{connection.schema_name}:{email.strip().lower()}",
            settings.LOGIN_RATE_PER_ACCOUNT,
        ),
    ]
    return [get_usage(request, group=name, key=key, rate=rate, increment=increment) for name, key, rate in counters]


def is_throttled(request, *, email: str, group: str) -> bool:
    """Has either counter used up its attempts? Counts nothing."""
    return any(
        usage["count"] >= usage["limit"] for usage in _usages(request, email=email, group=group, increment=False)
    )


def attempt_count(request, *, email: str, group: str) -> None:
    _usages(request, email=email, group=group, increment=True)


def attempt_throttled(request, *, email: str, group: str) -> bool:
    """Count this attempt and say whether it went over a limit (password reset)."""
    return any(usage["should_limit"] for usage in _usages(request, email=email, group=group, increment=True))
