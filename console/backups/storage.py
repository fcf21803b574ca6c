"""The backups storage (settings.STORAGES["backups"]: a directory or an S3 bucket): names, listing, reading,
saving, retention, and the errors it raises as BackupError."""

import logging
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.utils import timezone

from tenants.models import Tenant

logger = logging.getLogger(__name__)


DATABASE_PREFIX, WORKSPACES_PREFIX = "database", "workspaces"


NIGHTLY_RUN = "runs/workspaces.json"  # what the last nightly run of every workspace's backup did


MAX_AGE = timedelta(hours=26)  # older is stale: a daily backup (the worker's nightly run), with some slack


STAMP = "%Y%m%dT%H%M%S%fZ"


class BackupError(Exception):
    """A backup could not be made, or an archive cannot be restored (nothing was changed)."""


@dataclass(frozen=True)
class Backup:
    name: str  # in the backups storage
    size: int
    manifest: dict


def backups_storage():
    return storages["backups"]


# What the backups storage raises when it cannot be reached or refuses: a missing bucket, denied keys, an
# unreachable endpoint, a full disk. Reported as BackupError, like pg_dump's failures.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


@contextmanager
def storage_errors(doing: str):
    try:
        yield
    except FileNotFoundError:
        raise  # a missing backup or folder: the callers say what that means
    except STORAGE_ERRORS as error:
        storage = backups_storage()
        bucket = getattr(storage, "bucket_name", None)
        where = f"s3://{bucket}/{storage.location}" if bucket else str(storage.location)
        raise BackupError(f"the backups storage ({where}) could not {doing}: {error}") from error


def listdir(prefix: str) -> list[str]:
    """The file names directly under `prefix` ([] when there is no such folder)."""
    with storage_errors(f"list {prefix}"):
        try:
            return backups_storage().listdir(prefix)[1]
        except FileNotFoundError:
            return []


def read(name: str) -> bytes:
    """A small file of the storage (a manifest, the nightly run's summary); FileNotFoundError if missing."""
    with storage_errors(f"read {name}"), backups_storage().open(name, "rb") as handle:
        return handle.read()


def fetch(name: str, local: Path) -> None:
    """Copy a backup out of the storage into a local file, in chunks (a backup may not fit in memory)."""
    with (
        storage_errors(f"read {name}"),
        backups_storage().open(name, "rb") as source,
        local.open("wb") as target,
    ):
        shutil.copyfileobj(source, target, 1 << 20)


def stamp_of(name: str) -> datetime | None:
    try:
        return datetime.strptime(Path(name).stem, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def expire(prefix: str) -> list[str]:
    """Delete this kind's backups older than BACKUP_KEEP_DAYS (by the time in their names)."""
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_KEEP_DAYS)
    deleted = []
    for filename in listdir(prefix):
        made = stamp_of(filename)
        if made is not None and made < cutoff:
            with storage_errors(f"delete {prefix}/{filename}"):
                backups_storage().delete(f"{prefix}/{filename}")
            deleted.append(f"{prefix}/{filename}")
    return deleted


def save(name: str, path: Path) -> str:
    with storage_errors(f"save {name}"), path.open("rb") as handle:
        return backups_storage().save(name, File(handle, name=Path(name).name))


def workspace_backups(*, subdomain: str) -> list[str]:
    """A workspace's backups in the storage, oldest first."""
    prefix = f"{WORKSPACES_PREFIX}/{subdomain}"
    return sorted(f"{prefix}/{name}" for name in listdir(prefix) if name.endswith(".tar"))


@dataclass(frozen=True)
class StoredBackup:
    name: str  # in the backups storage: what restore.workspace_restore(backup=...) takes
    made_at: datetime | None
    size: int


def workspace_backup_list(*, subdomain: str) -> list[StoredBackup]:
    """A workspace's backups with when they were made and their size, newest first."""
    storage = backups_storage()
    with storage_errors(f"list the backups of {subdomain}"):
        return [
            StoredBackup(name=name, made_at=stamp_of(name), size=storage.size(name))
            for name in reversed(workspace_backups(subdomain=subdomain))
        ]


def purged_backups_delete() -> list[str]:
    """Delete the backups of workspaces that no longer exist: a purge deletes a workspace's data for good,
    its backups included, and a subdomain taken again must not show the old one's backups. Run after every
    purge and by the nightly run; returns the subdomains whose backups went."""
    storage = backups_storage()
    with storage_errors(f"list {WORKSPACES_PREFIX}"):
        try:
            folders = storage.listdir(WORKSPACES_PREFIX)[0]
        except FileNotFoundError:
            return []
    live = set(Tenant.objects.workspaces().values_list("subdomain", flat=True))
    deleted = []
    for folder in sorted(set(folders) - live):
        filenames = listdir(f"{WORKSPACES_PREFIX}/{folder}")
        for filename in filenames:
            with storage_errors(f"delete {WORKSPACES_PREFIX}/{folder}/{filename}"):
                storage.delete(f"{WORKSPACES_PREFIX}/{folder}/{filename}")
        # The folder itself: FileSystemStorage removes the empty directory, which would otherwise be listed
        # (and counted) again by every later run; on S3 a folder is only a prefix and this deletes nothing.
        # Best effort: a folder that is not empty (or a refusal) leaves it for the next run.
        try:
            storage.delete(f"{WORKSPACES_PREFIX}/{folder}")
        except STORAGE_ERRORS as error:
            logger.warning("backup: the folder %s/%s stays: %s", WORKSPACES_PREFIX, folder, error)
        if filenames:
            deleted.append(folder)
    if deleted:
        logger.info("backup: deleted the backups of %d purged workspace(s)", len(deleted))
    return deleted
