"""Brute-force throttles for login and password reset (django-ratelimit on the shared cache).

Three counters of failed attempts (password reset: of requests):
- per client (its address, an IPv6 client by its /64), across every host: LOGIN_RATE_PER_IP, strict;
- per account and client: LOGIN_RATE_PER_ACCOUNT, strict;
- per account from anywhere: LOGIN_RATE_PER_ACCOUNT_ANYWHERE, soft. Past it, a client that has already
  failed on this account is refused, but one that has not is still let in with the right password: a
  stranger failing on purpose from many addresses cannot lock the real person out.
The account is the address case-folded and NFKC-normalised, within this workspace's schema. Every
answer is the same whether the account exists or not.

Redis down: these fail closed. The "ratelimit" cache raises, and the error handler answers 503 "try
again in a few seconds" (core/errors.py): no attempt is ever let through unthrottled.
"""

import unicodedata
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import caches
from django_ratelimit.core import get_usage

from core.db import connection
from core.errors import CACHE_UNAVAILABLE_ERRORS
from core.http import client_key


def account_key(email: str) -> str:
    """NFKC, then upper case before case folding: the login's lookup (PostgreSQL's case-insensitive
    match) treats "admın" and "admin" alike, and so must the counter."""
    return f"{connection.schema_name}:{unicodedata.normalize('NFKC', email).strip().upper().casefold()}"


def _counters(email: str, group: str) -> dict:
    account = account_key(email)
    return {
        "client": (f"{group}-ip", lambda _g, req: client_key(req), settings.LOGIN_RATE_PER_IP),
        "account_client": (
            f"{group}-account-ip",
            lambda _g, req: f"{account}|{client_key(req)}",
            settings.LOGIN_RATE_PER_ACCOUNT,
        ),
        "account": (f"{group}-account", lambda _g, _req: account, settings.LOGIN_RATE_PER_ACCOUNT_ANYWHERE),
    }


def _usages(request, *, email: str, group: str, increment: bool) -> dict[str, dict]:
    return {
        name: get_usage(request, group=counter, key=key, rate=rate, increment=increment)
        for name, (counter, key, rate) in _counters(email, group).items()
    }


def _over(usage: dict) -> bool:
    return usage["count"] >= usage["limit"]


IN_FLIGHT_SECONDS = 60


def _in_flight_key(request, email: str, group: str) -> str:
    return f"in-flight:{group}:{account_key(email)}|{client_key(request)}"


@contextmanager
def attempt_in_flight(request, *, email: str, group: str):
    """Count an attempt as under way while its (slow) password hash runs, so that a burst of parallel
    attempts cannot all pass the check before any of them has failed."""
    cache, key = caches["ratelimit"], _in_flight_key(request, email, group)
    cache.add(key, 0, IN_FLIGHT_SECONDS)
    cache.incr(key)
    try:
        yield
    finally:
        try:
            cache.decr(key)
        except ValueError:  # expired meanwhile
            pass
        except CACHE_UNAVAILABLE_ERRORS:  # Redis went away meanwhile: the marker expires by itself
            pass


def is_throttled(request, *, email: str, group: str) -> bool:
    """May this attempt go ahead? Counts nothing. Attempts still under way count as failures."""
    usage = _usages(request, email=email, group=group, increment=False)
    in_flight = caches["ratelimit"].get(_in_flight_key(request, email, group)) or 0
    strict = usage["account_client"]
    if _over(usage["client"]) or strict["count"] + in_flight >= strict["limit"]:
        return True
    # Soft: many failures on the account from anywhere refuse only the clients that took part in them.
    return _over(usage["account"]) and usage["account_client"]["count"] > 0


def attempt_count(request, *, email: str, group: str) -> None:
    """Record a failed attempt on every counter."""
    _usages(request, email=email, group=group, increment=True)


def attempt_throttled(request, *, email: str, group: str) -> bool:
    """Password reset: was this request over a limit? (It is counted either way.)"""
    throttled = is_throttled(request, email=email, group=group)
    attempt_count(request, email=email, group=group)
    return throttled
