"""Figures for the operators' dashboard kept in the shared cache: the database's size on disk, measured by
the worker every ten minutes (pg_database_size walks every file of the database: 1.5 s at 10,000
workspaces, too slow for a page), and requests and server errors (5xx) per hour, counted by every
instance, for the error rate. One Redis round trip per request (a pipeline of INCR and EXPIRE); with
no Redis (development) the counts are this process's. A cache that is down loses counts, never a request.
Health probes are answered before the counting middleware and are not counted."""

import logging
from datetime import datetime, timedelta

from django.core.cache import caches
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

KEEP_HOURS = 25  # a day of whole hours, plus the current one
REQUESTS, ERRORS = "metrics:requests", "metrics:errors"
DATABASE_SIZE = "metrics:database_size"
DATABASE_SIZE_KEEP_SECONDS = 30 * 60  # three of the worker's measurements: a miss means it stopped


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


def database_size_measure() -> dict:
    """Measure the database's size on disk now and keep it for the dashboard."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    measured = {"bytes": size, "measured_at": timezone.now()}
    _cache().set(DATABASE_SIZE, measured, DATABASE_SIZE_KEEP_SECONDS)
    return measured


def database_size() -> dict:
    """The last measurement ({"bytes", "measured_at"}); measured now if there is none (no worker yet, a
    cache that was emptied): one slow page rather than no figure."""
    try:
        measured = _cache().get(DATABASE_SIZE)
    except Exception:
        measured = None
    return measured or database_size_measure()
