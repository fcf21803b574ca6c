"""Operators' backups and restores of one workspace from the admin, run by the worker: "back up now" queues
a backup; a restore is a RestoreRequest that the worker runs with console/backups/, recording the restore's
progress and its outcome on the request for the admin to show."""

import logging

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from console import backups
from console.audit import ConsoleAction
from console.models import RestoreRequest
from core.audit import audit_record
from core.queue import defer, defer_once
from tenants.models import Tenant
from tenants.subdomains import subdomain_normalize, subdomain_validate

logger = logging.getLogger(__name__)

BACKUP_TASK = "tenants.backup_workspace"  # its name since before the console app (console/tasks.py)
RESTORE_TASK = "tenants.restore_workspace"
RESTORE_PERMISSION = "console.restore_workspace"
UNEXPECTED_FAILURE = "The restore stopped on an unexpected error; the job failures list has the details."
ABANDONED = (
    "The worker stopped while this restore ran. A restore is one transaction, so it either finished or changed "
    "nothing: the workspace's audit trail has a 'restored' event if it finished."
)


class RestoreRefused(Exception):
    """The request cannot be taken (nothing was queued); the message says why."""


def restore_allowed(user) -> bool:
    """Superusers, and operators given the permission (docs/decisions.md)."""
    return user.is_active and user.is_staff and user.has_perm(RESTORE_PERMISSION)


def workspace_backup_queue(*, tenant: Tenant, actor: str) -> bool:
    """Queue a backup of the workspace; False when one is already waiting."""
    return defer_once(BACKUP_TASK, lock=f"backup-workspace-{tenant.pk}", tenant_id=tenant.pk, actor=actor)


def restore_request_create(
    *, tenant: Tenant, backup: str, as_subdomain: str = "", requested_by: str, ip_address: str | None = None
) -> RestoreRequest:
    """Record an operator's request to restore one of the workspace's backups (in place, or with
    `as_subdomain` as a new workspace), audit it and queue it. One at a time per workspace."""
    _abandoned_fail(tenant)
    if backup not in backups.workspace_backups(subdomain=tenant.workspace_subdomain):
        raise RestoreRefused(f"{tenant.subdomain} has no backup {backup}.")
    if as_subdomain:
        as_subdomain = subdomain_normalize(as_subdomain)
        try:
            subdomain_validate(as_subdomain)
        except ValidationError as error:
            raise RestoreRefused(" ".join(error.messages)) from None
        if Tenant.objects.filter(subdomain=as_subdomain).exists():
            raise RestoreRefused(f"The subdomain {as_subdomain} is taken.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                request = RestoreRequest.objects.create(
                    tenant_id=tenant.pk, backup=backup, as_subdomain=as_subdomain, requested_by=requested_by
                )
        except IntegrityError:  # the constraint one_pending_restore_per_workspace
            raise RestoreRefused(
                f"A restore of {tenant.subdomain} is already queued or running: wait until it has finished."
            ) from None
        audit_record(
            tenant=tenant,
            actor=requested_by,
            action=ConsoleAction.TENANT_RESTORE_REQUESTED,
            details={"backup": backup, "as": as_subdomain or None, "request": request.pk},
            ip_address=ip_address,
        )
        defer(RESTORE_TASK, request_id=request.pk)
    return request


def _abandoned_fail(tenant: Tenant) -> None:
    """A request left running by a worker that died would block this workspace's restores for good."""
    now = timezone.now()
    RestoreRequest.objects.filter(
        tenant_id=tenant.pk, status=RestoreRequest.Status.RUNNING, started_at__lt=now - RestoreRequest.ABANDONED_AFTER
    ).update(status=RestoreRequest.Status.FAILED, finished_at=now, result=ABANDONED)


def restore_request_run(*, request_id: int) -> RestoreRequest:
    """The worker's side: run the restore, saving each step on the request as it goes, then the outcome.
    A BackupError (a damaged or foreign archive, a taken subdomain: nothing was changed) fails the request
    with its message; any other error fails it with a generic one and is raised for the job's record."""
    claimed = RestoreRequest.objects.filter(pk=request_id, status=RestoreRequest.Status.QUEUED).update(
        status=RestoreRequest.Status.RUNNING, started_at=timezone.now()
    )
    request = RestoreRequest.objects.get(pk=request_id)
    if not claimed:
        logger.warning("restore request %s is %s, not queued: not run again", request_id, request.status)
        return request
    steps: list[str] = []
    # The restore runs in one transaction: its progress is written through a connection of its own, so
    # the admin sees each step as it happens (and the steps stay when the restore rolls back).
    side = connections.create_connection(DEFAULT_DB_ALIAS)

    def progress(step: str) -> None:
        steps.append(f"{timezone.now():%H:%M:%S} {step}")
        with side.cursor() as cursor:
            table = RestoreRequest._meta.db_table
            cursor.execute(f"UPDATE {table} SET progress = %s WHERE id = %s", ["\n".join(steps), request_id])

    try:
        restored = backups.workspace_restore(
            backup=request.backup,
            as_subdomain=request.as_subdomain or None,
            of_tenant_id=request.tenant_id,
            actor=request.requested_by,
            progress=progress,
        )
    except backups.BackupError as error:
        logger.warning("restore request %s failed: %s", request_id, error)
        return _finish(request_id, RestoreRequest.Status.FAILED, result=str(error))
    except Exception:
        _finish(request_id, RestoreRequest.Status.FAILED, result=UNEXPECTED_FAILURE)
        raise
    finally:
        side.close()
    return _finish(
        request_id,
        RestoreRequest.Status.SUCCEEDED,
        result=f"Restored into {restored.subdomain}.",
        restored_tenant_id=restored.pk,
    )


def _finish(request_id: int, status: str, **fields) -> RestoreRequest:
    RestoreRequest.objects.filter(pk=request_id).update(status=status, finished_at=timezone.now(), **fields)
    return RestoreRequest.objects.get(pk=request_id)
