"""Requests and server errors (5xx) per hour, counted by every instance into the shared cache, for the
operators' dashboard's error rate. One Redis round trip per request (a pipeline of INCR and EXPIRE); with
no Redis (development) the counts are this process's. A cache that is down loses counts, never a request.
Health probes are answered before the counting middleware and are not counted."""

import logging
from datetime import datetime, timedelta

from django.core.cache import caches
from django.utils import timezone

logger = logging.getLogger(__name__)

KEEP_HOURS = 25  # a day of whole hours, plus the current one
REQUESTS, ERRORS = "metrics:requests", "metrics:errors"


def _cache():
    return caches["public"]  # no workspace prefix: these are the whole deployment's


def _keys(moment: datetime, status: int) -> list[str]:
    hour = moment.strftime("%Y%m%d%H")
    return [f"{REQUESTS}:{hour}", *([f"{ERRORS}:{hour}"] if status >= 500 else [])]


def request_counted(status: int, *, now: datetime | None = None) -> None:
    cache = _cache()
    keys = _keys(now or timezone.now(), status)
    ttl = KEEP_HOURS * 3600
    try:
        client = cache.client.get_client(write=True)  # django-redis
    except AttributeError:
        client = None
    try:
        if client is None:
            for key in keys:
                cache.add(key, 0, ttl)
                cache.incr(key)
            return
        pipeline = client.pipeline(transaction=False)
        for key in keys:
            full = cache.make_key(key)
            pipeline.incr(full)
            pipeline.expire(full, ttl)
        pipeline.execute()
    except Exception as error:  # counting must never cost a request
        logger.debug("request counters not updated: %s", error)


def error_rate(*, hours: int = 24, now: datetime | None = None) -> dict:
    """Requests and 5xx answers in the last `hours` whole hours (the current one included)."""
    now = now or timezone.now()
    stamps = [(now - timedelta(hours=back)).strftime("%Y%m%d%H") for back in range(hours)]
    keys = [f"{kind}:{stamp}" for kind in (REQUESTS, ERRORS) for stamp in stamps]
    try:
        values = _cache().get_many(keys)
    except Exception:
        values = {}
    requests = sum(int(values.get(f"{REQUESTS}:{stamp}", 0)) for stamp in stamps)
    errors = sum(int(values.get(f"{ERRORS}:{stamp}", 0)) for stamp in stamps)
    return {
        "hours": hours,
        "requests": requests,
        "errors": errors,
        "percent": round(100 * errors / requests, 2) if requests else None,
    }
