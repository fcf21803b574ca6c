"""The console's background work: the nightly backups, the purge of closed workspaces (and their backups), and
the operators' backups and restores of one workspace (console/restores.py).

Their names are stored with every queued job, so they are renamed in two releases, like a column: this
release keeps the names the tasks had in tenants (which the worker still running the previous release
knows) and adds the console.* names as aliases; the next release makes console.* the names and keeps
tenants.* as aliases, so a job either release queued is run by either worker (docs/decisions.md)."""

import logging

from procrastinate.contrib.django import app

from console import backups, restores
from tenants import services
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@app.periodic(cron="30 3 * * *")
@app.task(
    name="tenants.purge_closed", aliases=["console.purge_closed"], queue="maintenance", queueing_lock="purge-closed"
)
def purge_closed(timestamp: int) -> list[str]:
    """Daily: delete workspaces closed more than DELETION_GRACE_DAYS ago (`manage.py purge_closed_tenants`)."""
    purged = services.tenants_purge_due(actor="system")
    if purged:
        logger.info("purged closed workspaces: %s", ", ".join(purged))
        backups.purged_backups_delete()
    return purged


@app.periodic(cron="30 2 * * *")
@app.task(
    name="tenants.backup_daily", aliases=["console.backup_daily"], queue="maintenance", queueing_lock="backup-daily"
)
def backup_daily(timestamp: int) -> str:
    """Daily: the whole database to the backups storage (`manage.py backup`). A failure is logged as an
    error (Sentry), recorded as a job failure (the job admin) and shows on the operators' dashboard as
    the last backup growing old."""
    try:
        backup = backups.database_backup()
    except backups.BackupError as error:
        logger.error("the daily backup failed: %s", error)
        raise
    return backup.name


@app.periodic(cron="0 3 * * *")
@app.task(
    name="tenants.backup_workspaces_daily",
    aliases=["console.backup_workspaces_daily"],
    queue="maintenance",
    queueing_lock="backup-workspaces-daily",
)
def backup_workspaces_daily(timestamp: int) -> int:
    """Daily: every workspace on its own (`manage.py backup_workspace --all`), so any one can be restored
    from the admin to any of the last BACKUP_KEEP_DAYS nights. Workspaces that fail are logged one by one
    (Sentry), the job then fails (the job admin) and launch_check's backups item fails until a run is clean."""
    run = backups.workspaces_backup_all()
    if run["failed"]:
        raise backups.BackupError(
            f"{len(run['failed'])} workspace backup(s) failed: {', '.join(sorted(run['failed']))}"
        )
    return run["backed_up"]


@app.task(name=restores.BACKUP_TASK, aliases=["console.backup_workspace"], queue="maintenance")
def backup_workspace(tenant_id: int, actor: str) -> str:
    """An operator's "Back up now" in the admin."""
    return backups.workspace_backup(tenant=Tenant.objects.workspaces().get(pk=tenant_id), actor=actor).name


@app.task(name=restores.RESTORE_TASK, aliases=["console.restore_workspace"], queue="maintenance")
def restore_workspace(request_id: int) -> str:
    """An operator's restore request from the admin; its outcome is on the request (RestoreRequest)."""
    return restores.restore_request_run(request_id=request_id).status
