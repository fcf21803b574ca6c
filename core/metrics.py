"""Figures for the operators' dashboard kept in the shared cache: the database's size on disk, measured by
the worker every ten minutes (pg_database_size walks every file of the database: 1.5 s at 10,000
workspaces, too slow for a page), and requests and server errors (5xx) per hour, counted by every
instance, for the error rate.

Each process adds its counts up in memory and writes them to the cache at most every FLUSH_SECONDS (one
pipeline of INCRBY and EXPIRE), so a request costs no round trip: writing each one cost the dashboard
page ~8% of its throughput. A process that dies loses at most those seconds of counts; with no Redis
(development) the counts are this process's; a cache that is down loses counts, never a request. Health
probes and static files are not counted."""

import atexit
import logging
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from django.core.cache import caches
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

KEEP_HOURS = 25  # a day of whole hours, plus the current one
FLUSH_SECONDS = 5.0
REQUESTS, ERRORS = "metrics:requests", "metrics:errors"
DATABASE_SIZE = "metrics:database_size"
DATABASE_SIZE_KEEP_SECONDS = 30 * 60  # three of the worker's measurements: a miss means it stopped

_pending: Counter = Counter()  # cache key -> count not yet written
_lock = threading.Lock()
_flushed_at = time.monotonic()


def _cache():
    return caches["public"]  # no workspace prefix: these are the whole deployment's


def request_counted(status: int, *, now: datetime | None = None) -> None:
    """Count one answer (called by core.logs.RequestLogMiddleware)."""
    global _flushed_at
    hour = (now or timezone.now()).strftime("%Y%m%d%H")
    with _lock:
        _pending[f"{REQUESTS}:{hour}"] += 1
        if status >= 500:
            _pending[f"{ERRORS}:{hour}"] += 1
        due = time.monotonic() - _flushed_at >= FLUSH_SECONDS
    if due:
        counts_flush()


def counts_flush() -> None:
    """Write this process's pending counts to the cache."""
    global _flushed_at
    with _lock:
        counts = dict(_pending)
        _pending.clear()
        _flushed_at = time.monotonic()
    if not counts:
        return
    cache, ttl = _cache(), KEEP_HOURS * 3600
    try:
        try:
            client = cache.client.get_client(write=True)  # django-redis
        except AttributeError:
            client = None
        if client is None:
            for key, count in counts.items():
                cache.add(key, 0, ttl)
                cache.incr(key, count)
            return
        pipeline = client.pipeline(transaction=False)
        for key, count in counts.items():
            full = cache.make_key(key)
            pipeline.incrby(full, count)
            pipeline.expire(full, ttl)
        pipeline.execute()
    except Exception as error:  # counting must never cost a request
        logger.debug("request counters not updated: %s", error)


atexit.register(counts_flush)  # a worker that exits normally (max_requests, a restart) keeps its counts


def error_rate(*, hours: int = 24, now: datetime | None = None) -> dict:
    """Requests and 5xx answers in the last `hours` whole hours (the current one included), this process's
    pending counts written first."""
    counts_flush()
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
