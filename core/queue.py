"""Glue between Procrastinate (the PostgreSQL job queue) and this project.

- Every task starts on the public schema: a worker thread's connection is reused from task to task, and
  a schema left set by one task must never leak into the next (tasks about a workspace take its id and
  enter its schema themselves).
- Every failed attempt is recorded (JobFailure) with its error, for the job admin.
- `defer` queues a job by task name; `defer_once` unless the same one is already waiting.
- A job queued during a request carries that request's id (a `_request_id` keyword the middleware takes
  off again), so the job's log lines say which request queued it.
"""

import logging
import traceback
from contextlib import contextmanager

import structlog
from asgiref.sync import sync_to_async
from django.db import transaction
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app

from core.db import connection
from core.models import JobFailure

logger = logging.getLogger(__name__)


def _failure_record(job, error: Exception, trace: str) -> None:
    connection.set_schema_to_public()
    try:
        JobFailure.objects.create(
            job_id=job.id,
            task_name=job.task_name,
            attempt=job.attempts + 1,
            error=f"{type(error).__name__}: {error}"[:2000],
            traceback=trace[-10_000:],
        )
    except Exception:
        logger.exception("could not record the failure of job %s", job.id)


REQUEST_ID_KWARG = "_request_id"


@contextmanager
def _job_log_context(job):
    """The job's log lines carry its id, its task and the id of the request that queued it."""
    request_id = job.task_kwargs.pop(REQUEST_ID_KWARG, None)
    context = {"job_id": job.id, "task": job.task_name, **({"request_id": request_id} if request_id else {})}
    with structlog.contextvars.bound_contextvars(**context):
        yield


def public_schema_and_failures(call_next, context, worker):
    """Task middleware for sync tasks (see PROCRASTINATE_ON_APP_READY)."""
    connection.set_schema_to_public()
    with _job_log_context(context.job):
        try:
            return call_next()
        except Exception as error:
            _failure_record(context.job, error, traceback.format_exc())
            raise
        finally:
            connection.set_schema_to_public()


async def failures_async(call_next, context, worker):
    """Task middleware for async tasks: they use no schema, but their failures are recorded too."""
    with _job_log_context(context.job):
        try:
            return await call_next()
        except Exception as error:
            await sync_to_async(_failure_record, thread_sensitive=True)(context.job, error, traceback.format_exc())
            raise


def on_app_ready(app) -> None:
    """PROCRASTINATE_ON_APP_READY: runs once the Django app of Procrastinate exists."""
    defaults = dict(app.worker_defaults or {})
    middleware = [public_schema_and_failures, failures_async]
    defaults["task_middleware"] = [*defaults.get("task_middleware", []), *middleware]
    app.worker_defaults = defaults


def defer(task_name: str, **kwargs) -> int:
    """Queue a job by task name (services name their tasks; the task modules import the services). In a
    transaction, the job exists only if the transaction commits."""
    return app.configure_task(task_name, allow_unknown=False).defer(**_with_request_id(kwargs))


def _with_request_id(kwargs: dict) -> dict:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return {**kwargs, REQUEST_ID_KWARG: request_id} if request_id else kwargs


def defer_once(task_name: str, *, lock: str, **kwargs) -> bool:
    """Queue a job unless one with the same queueing lock is already waiting; returns whether it queued.
    Safe inside a transaction (a savepoint absorbs the refusal)."""
    try:
        with transaction.atomic():
            app.configure_task(task_name, allow_unknown=False, queueing_lock=lock).defer(**_with_request_id(kwargs))
    except procrastinate_exceptions.AlreadyEnqueued:
        return False
    return True
