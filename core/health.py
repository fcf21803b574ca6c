"""Health endpoints for the proxy's upstream checks and for monitoring, answered before anything else.

- `/healthz` (liveness): the process answers. No database, no cache, any Host header (an unknown one
  included), never rate limited, never redirected to HTTPS (the proxy probes upstreams over plain HTTP).
- `/readyz` (readiness): JSON with one entry per check. 503 when this instance cannot serve: the
  database does not answer or the public schema has not recorded a migration file of the code (a
release half done). Redis
  down and a stalled queue worker are reported as "degraded" with a 200: pages still work without them
  (docs/decisions.md), and taking every web instance out of the proxy because the worker stopped would
  turn late emails into an outage.

The middleware sits first in MIDDLEWARE, before SecurityMiddleware (SSL redirect), the global rate limit
and tenant routing.
"""

import importlib.util
import os
import time

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db.migrations.loader import MigrationLoader
from django.http import JsonResponse

from core.db import connection

# A queue worker beats every few seconds (procrastinate: 10 s); older than this, it is stalled or gone.
WORKER_HEARTBEAT_MAX_AGE = 120
# Seconds since the newest heartbeat of any queue worker; NULL when none has ever run. A statement of its
# own, or a subquery of a larger one (the dashboard's).
WORKER_HEARTBEAT_AGE_SQL = "SELECT EXTRACT(EPOCH FROM now() - max(last_heartbeat)) FROM procrastinate_workers"


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return _no_store(JsonResponse({"status": "ok"}))
        if request.path == "/readyz":
            return _no_store(readiness())
        return self.get_response(request)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def readiness() -> JsonResponse:
    checks = {
        "database": _timed(_database),
        "migrations": _timed(_migrations),
        "redis": _timed(_redis),
        "queue_worker": _timed(_queue_worker),
    }
    critical = ("database", "migrations")
    if not all(checks[name]["ok"] for name in critical):
        status, code = "unavailable", 503
    elif not all(check["ok"] for check in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    connection.set_schema_to_public()
    return JsonResponse({"status": status, "checks": checks}, status=code)


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
        result: dict[str, object] = {"ok": True}
    except Exception as error:  # a failed check is an answer, not a 500
        detail = error_text(error).strip()[:200]
        result = {"ok": False}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    if detail:
        result["detail"] = detail
    return result


def timed(call) -> float:
    """The milliseconds `call()` takes (its errors are raised)."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def error_text(error: BaseException) -> str:
    """An error as a check reports it: its type and message. Each caller cuts it to its own length."""
    return f"{type(error).__name__}: {error}"


def database_ping() -> float:
    """`SELECT 1` on the public schema: its round trip in milliseconds (raises when the database is down)."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        return timed(lambda: cursor.execute("SELECT 1"))


def redis_probe() -> float:
    """One read through the "ratelimit" alias, which raises on errors (the others swallow them): its round
    trip in milliseconds. Only meaningful with REDIS_URL set (without it, the caches are per-process memory)."""
    return timed(lambda: caches["ratelimit"].get("health-probe"))


def worker_heartbeat_age() -> float | None:
    """Seconds since the newest queue worker heartbeat, None when no worker has ever run."""
    with connection.cursor() as cursor:
        cursor.execute(WORKER_HEARTBEAT_AGE_SQL)
        return cursor.fetchone()[0]


def migration_names(pending: list[tuple[str, str]], *, limit: int = 5) -> list[str]:
    """The first `limit` of `pending` (migrations_pending()'s answer) as "app.name"."""
    return [f"{app}.{name}" for app, name in pending[:limit]]


def _database() -> str:
    database_ping()
    return ""


def _migrations() -> str:
    pending = migrations_pending()
    if pending:
        names = ", ".join(migration_names(pending))
        raise RuntimeError(f"{len(pending)} migration(s) not applied ({names}): run the release step")
    return ""


def migrations_pending(*, schema: str | None = None) -> list[tuple[str, str]]:
    """Migration files on disk that the public schema (or `schema`, read by its qualified name; the
    connection is left on the public schema) has not recorded. Read from the file names, not by importing
    the migrations (Django's loader takes seconds on a fresh process with dj-stripe's history, longer than
    the proxy waits for an answer)."""
    on_disk = migrations_on_disk()
    connection.set_schema_to_public()
    table = "django_migrations" if schema is None else f"{connection.ops.quote_name(schema)}.django_migrations"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {table}")
        applied = set(cursor.fetchall())
    return sorted(on_disk - applied)


def migrations_on_disk() -> set[tuple[str, str]]:
    """(app label, migration name) of every migration file of the installed apps, from file names only."""
    on_disk: set[tuple[str, str]] = set()
    for app_config in apps.get_app_configs():
        module_name, _ = MigrationLoader.migrations_module(app_config.label)
        spec = importlib.util.find_spec(module_name) if module_name else None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            on_disk.update(
                (app_config.label, entry.removesuffix(".py"))
                for entry in os.listdir(folder)
                if entry.endswith(".py") and not entry.startswith("_")
            )
    return on_disk


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured (per-process memory)"
    redis_probe()
    return ""


def _queue_worker() -> str:
    age = worker_heartbeat_age()
    if age is None:
        raise RuntimeError("no queue worker is running (manage.py procrastinate worker)")
    if age > WORKER_HEARTBEAT_MAX_AGE:
        raise RuntimeError(f"last worker heartbeat {age:.0f} s ago")
    return f"last heartbeat {age:.0f} s ago"
