"""Run queued jobs for real in tests: Procrastinate's own worker fetches them from PostgreSQL, runs the task
(middlewares, retries and all) and records the outcome in its tables.

`jobs_run()` runs the worker in the test's thread and on its database connection, so it sees what the test
wrote inside its (rolled back) transaction. For that, and only in Procrastinate, never in our code: sync tasks
run in the calling thread instead of a thread pool; the Django contrib's per-task connection cleanup is
skipped (it would close the test's connection); jobs are read through Django's connection, which hands
jsonb back as text, so the arguments are decoded as Procrastinate's own connector does; and the periodic
schedule is left out (tests defer periodic tasks themselves). Tests that need the real arrangement (a worker
with its own connections and threads, on committed data) use `worker_thread_run()`.
"""

import asyncio
import json
from contextlib import ExitStack
from unittest import mock

from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, connections
from procrastinate import utils as procrastinate_utils
from procrastinate.contrib.django import app, db_cleanup
from procrastinate.contrib.django.django_connector import DjangoConnector

WORKER_OPTIONS = {
    "wait": False,
    "listen_notify": False,
    "install_signal_handlers": False,
    "fetch_job_polling_interval": 0.05,
}


async def _in_calling_thread(func, *args, **kwargs):
    return await sync_to_async(func, thread_sensitive=True)(*args, **kwargs)


def _noop() -> None:
    pass


class _TestConnector(DjangoConnector):
    def _dictfetch(self, cursor):
        for row in super()._dictfetch(cursor):
            if isinstance(row.get("args"), str):
                row["args"] = json.loads(row["args"])
            yield row


def jobs_run(*, queues: list[str] | None = None, retries_due: bool = True, rounds: int = 10) -> dict[str, int]:
    """Run every job that is due, in this thread, until none is left. With `retries_due`, jobs waiting for
    a retry are made due at once (as if their backoff had passed). Returns the jobs by final status."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(procrastinate_utils, "sync_to_async", _in_calling_thread))
        stack.enter_context(mock.patch.object(db_cleanup, "_cleanup_before", _noop))
        stack.enter_context(mock.patch.object(db_cleanup, "_cleanup_after", _noop))
        stack.enter_context(mock.patch.dict(app.periodic_registry.periodic_tasks, clear=True))
        stack.enter_context(app.replace_connector(_TestConnector()))
        for _ in range(rounds):
            async_to_sync(app.run_worker_async)(queues=queues, **WORKER_OPTIONS)
            if not (retries_due and _make_retries_due()):
                break
    connection.set_schema_to_public()
    return jobs_by_status()


def _make_retries_due() -> int:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = NULL WHERE status = 'todo'")
        return cursor.rowcount


def jobs_by_status(task_name: str | None = None) -> dict[str, int]:
    query = "SELECT status, count(*) FROM procrastinate_jobs"
    params = []
    if task_name:
        query += " WHERE task_name = %s"
        params.append(task_name)
    with connection.cursor() as cursor:
        cursor.execute(query + " GROUP BY status", params)
        return dict(cursor.fetchall())


def worker_thread_run(**options) -> None:
    """Procrastinate's worker as `manage.py procrastinate worker` runs it (its own connection pool, sync
    tasks in worker threads), until the queue is empty. Only for committed data."""
    options = {**WORKER_OPTIONS, "listen_notify": True, **options}
    # Sync tasks run in pool threads whose Django connections would outlive the test (CONN_MAX_AGE) and
    # block the test database's teardown: close them after each task.
    # The periodic schedule is left out here too: it would defer jobs depending on the wall clock.
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(connections.settings["default"], {"CONN_MAX_AGE": 0}))
        stack.enter_context(mock.patch.dict(app.periodic_registry.periodic_tasks, clear=True))
        stack.enter_context(app.replace_connector(app.connector.get_worker_connector()))
        asyncio.run(_open_and_run(options))


async def _open_and_run(options: dict) -> None:
    async with app.open_async():
        await app.run_worker_async(**options)


def outbox() -> list:
    """The emails sent so far, after running every queued job (anymail's test backend records them)."""
    from django.core import mail

    jobs_run()
    return mail.outbox
