"""Backups of the whole database and of one workspace, and restoring a workspace from its backup.

A workspace backup is one uncompressed tar in the `backups` storage (settings.STORAGES), at
`workspaces/<subdomain>/<timestamp>.tar`:

- `tables/<table>.copy`: each table of the workspace's schema in COPY's text format;
- `public.json`: its rows in the public schema (the Tenant row, domains, billing, legal acceptances,
  audit events, emails, notices), serialized by Django;
- `manifest.json`: SHA-256 of every file, each table's columns, row count and identity sequence, the
  subdomain, schema, creation time, app version, server version and a digest of the schema's applied
  migrations;
- `manifest.sig`: the manifest's signature with SECRET_KEY (an archive is input: see _load_schema).

Everything is read in one repeatable-read transaction, with catalog queries filtered by the schema's
namespace: the cost is the workspace's own size, not the number of other workspaces (pg_dump --schema
reads the whole catalog: 0.14 s at 10 workspaces, 0.92 s at 1,000).

A restore checks the manifest before it touches anything. Then, in one transaction, it builds the tables
from the template (same migrations: the manifest's digest must match the template's), loads the rows with
COPY, adds constraints and indexes (tenants/clone.py), sets the sequences, swaps the schemas by renaming
and replaces the public rows. Any failure rolls all of it back: the workspace never runs half-restored.
docs/decisions.md has the why.
"""

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.apps import apps
from django.conf import settings
from django.core import serializers, signing
from django.core.cache import caches
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.utils import timezone

from billing.models import BillingAccount, BillingEvent, Invoice
from console.audit import ConsoleAction
from core.audit import AuditEvent, audit_record
from legal.models import LegalAcceptance
from notifications.models import EmailLog
from tenants.models import Domain, Tenant
from tenants.schemas import clone
from tenants.subdomains import subdomain_normalize, subdomain_validate

logger = logging.getLogger(__name__)

FORMAT = 2
MANIFEST, PUBLIC_ROWS, TABLES_DIR = "manifest.json", "public.json", "tables"
# The manifest's signature with this deployment's SECRET_KEY (or one of SECRET_KEY_FALLBACKS): write access to
# the backups storage must not be enough to have forged rows restored into a workspace.
SIGNATURE = "manifest.sig"
SIGNING_SALT = "tenants.backups.manifest"  # unchanged by the move to console: older archives still verify
DATABASE_PREFIX, WORKSPACES_PREFIX = "database", "workspaces"
NIGHTLY_RUN = "runs/workspaces.json"  # what the last nightly run of every workspace's backup did
STATUS_CACHE_KEY, STATUS_CACHE_SECONDS = "backups:status", 10 * 60  # backup_status()
MAX_AGE = timedelta(hours=26)  # older is stale: a daily backup (the worker's nightly run), with some slack
STAMP = "%Y%m%dT%H%M%S%fZ"
# Public rows of a workspace that belong to its Stripe customer (unique Stripe ids): a copy made with
# `--as` gets none of them, so two workspaces never share a customer or a subscription.
STRIPE_BOUND: set[type[models.Model]] = {BillingAccount, Invoice, BillingEvent}
# Records of what happened: a restore rewinds a workspace's state, never its history. Rows of these made
# since the backup stay; rows the backup has and the table lost come back.
HISTORY: set[type[models.Model]] = {AuditEvent, EmailLog, BillingEvent, LegalAcceptance}
# Models that moved to another app since older archives were made: their rows are read under the new label.
MOVED_LABELS = {"tenants.auditevent": "core.auditevent"}


class BackupError(Exception):
    """A backup could not be made, or an archive cannot be restored (nothing was changed)."""


@dataclass(frozen=True)
class Backup:
    name: str  # in the backups storage
    size: int
    manifest: dict


def _storage():
    return storages["backups"]


# What the backups storage raises when it cannot be reached or refuses: a missing bucket, denied keys, an
# unreachable endpoint, a full disk. Reported as BackupError, like pg_dump's failures.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


@contextmanager
def _storage_errors(doing: str):
    try:
        yield
    except FileNotFoundError:
        raise  # a missing backup or folder: the callers say what that means
    except STORAGE_ERRORS as error:
        storage = _storage()
        bucket = getattr(storage, "bucket_name", None)
        where = f"s3://{bucket}/{storage.location}" if bucket else str(storage.location)
        raise BackupError(f"the backups storage ({where}) could not {doing}: {error}") from error


def _listdir(prefix: str) -> list[str]:
    """The file names directly under `prefix` ([] when there is no such folder)."""
    with _storage_errors(f"list {prefix}"):
        try:
            return _storage().listdir(prefix)[1]
        except FileNotFoundError:
            return []


def _read(name: str) -> bytes:
    """A small file of the storage (a manifest, the nightly run's summary); FileNotFoundError if missing."""
    with _storage_errors(f"read {name}"), _storage().open(name, "rb") as handle:
        return handle.read()


def _fetch(name: str, local: Path) -> None:
    """Copy a backup out of the storage into a local file, in chunks (a backup may not fit in memory)."""
    with _storage_errors(f"read {name}"), _storage().open(name, "rb") as source, local.open("wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)


def app_version() -> str:
    try:
        return package_version("portal")
    except PackageNotFoundError:
        return "unknown"


# --- PostgreSQL client programs -----------------------------------------------------------------


def server_version() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int, current_setting('server_version')")
        number, text = cursor.fetchone()
    return number // 10000, text


def pg_program(name: str) -> str:
    """pg_dump or pg_restore of the server's major version (pg_dump refuses an older server's
    client, and an older pg_restore cannot read a newer dump)."""
    major, _ = server_version()
    if settings.PG_BIN_DIR:
        program = Path(settings.PG_BIN_DIR) / name
        if not program.exists() or _major_of(program) < major:
            raise BackupError(f"PG_BIN_DIR has no {name} of PostgreSQL {major} or newer")
        return str(program)
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin")]
    try:
        import pgserver  # the embedded development server (config/embedded_db.py) ships its own

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for directory in candidates:
        program = directory / name
        if program.exists() and _major_of(program) == major:
            return str(program)
    found = shutil.which(name)
    if found and _major_of(Path(found)) >= major:
        return found
    raise BackupError(f"no {name} for PostgreSQL {major} found: set PG_BIN_DIR")


def _major_of(program: Path) -> int:
    output = subprocess.run([str(program), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    return int(match.group(1)) if match else 0


def _connection_args() -> tuple[list[str], dict]:
    db = connection.settings_dict
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    host = (db.get("OPTIONS") or {}).get("host")
    if host and not db.get("HOST"):
        args += ["--host", str(host)]
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    args, env = _connection_args()
    result = subprocess.run([*command, *args], env=env, capture_output=True, **kwargs)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace") if isinstance(result.stderr, bytes) else result.stderr
        raise BackupError(f"{Path(command[0]).name} failed: {stderr.strip()[-2000:]}")
    return result


# --- Helpers ------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _migrations_digest(schema: str) -> str:
    """Which migrations a schema has: a restore only takes a dump made at the same migration state."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quote(schema)}.django_migrations ORDER BY app, name")
        rows = cursor.fetchall()
    return hashlib.sha256("\n".join(f"{app}.{name}" for app, name in rows).encode()).hexdigest()


def _tenant_models() -> list[type[models.Model]]:
    """Models of the public schema with rows that belong to one workspace (a foreign key to Tenant),
    found from the models so new ones are backed up too. dj-stripe's mirror is Stripe's state: left out."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label == "djstripe" or model in (Tenant, Domain):
            continue
        if any(
            isinstance(field, models.ForeignKey) and field.related_model is Tenant
            for field in model._meta.concrete_fields
        ):
            found.append(model)
    return sorted(found, key=lambda model: model._meta.label_lower)


def _tenant_field(model) -> str:
    fields = model._meta.concrete_fields
    return next(f.name for f in fields if isinstance(f, models.ForeignKey) and f.related_model is Tenant)


def _newest_database_dump() -> tuple[datetime, str] | None:
    """When the newest whole-database backup was made and its name in the storage (None: there is none)."""
    made = [(_stamp_of(name), name) for name in _listdir(DATABASE_PREFIX) if name.endswith(".dump")]
    newest = max(((stamp, name) for stamp, name in made if stamp), default=None)
    return None if newest is None else (newest[0], f"{DATABASE_PREFIX}/{newest[1]}")


def newest_database_backup_at() -> datetime | None:
    """When the newest whole-database backup in the backups storage was made (None: there is none)."""
    newest = _newest_database_dump()
    return None if newest is None else newest[0]


def _stamp_of(name: str) -> datetime | None:
    try:
        return datetime.strptime(Path(name).stem, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _expire(prefix: str) -> list[str]:
    """Delete this kind's backups older than BACKUP_KEEP_DAYS (by the time in their names)."""
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_KEEP_DAYS)
    deleted = []
    for filename in _listdir(prefix):
        made = _stamp_of(filename)
        if made is not None and made < cutoff:
            with _storage_errors(f"delete {prefix}/{filename}"):
                _storage().delete(f"{prefix}/{filename}")
            deleted.append(f"{prefix}/{filename}")
    return deleted


@contextmanager
def _repeatable_read():
    """A repeatable-read transaction: the public rows and every table of the schema show one moment."""
    if connection.in_atomic_block:
        raise RuntimeError("a backup must not run inside a transaction: it would not see one moment")
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_isolation = 'repeatable read'")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(COPY_SETTINGS)
            yield cursor
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET default_transaction_isolation")


# COPY's text for dates and intervals follows these: the same on both sides, whatever the server's defaults.
COPY_SETTINGS = "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'"
# How long a restore waits for the workspace's tables (a request or job in a long transaction on them):
# past it the restore gives up with nothing changed, rather than stalling the workspace behind its lock.
LOCK_TIMEOUT = "10s"
LOCK_NOT_AVAILABLE = "55P03"

# Tables of one schema with their copyable columns and identity column, found by their dependency on the
# namespace (an index), not by scanning pg_class (tenants/clone.py says why).
SCHEMA_TABLES = f"""
SELECT c.relname,
       array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped
                                                        AND a.attgenerated = ''),
       min(a.attname::text) FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> '')
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.oid IN ({clone.TABLE_OIDS.replace("%(ns)s", "%(schema)s::regnamespace")})
 GROUP BY c.relname ORDER BY c.relname
"""


def _dump_schema(cursor, schema: str, folder: Path, files: dict) -> dict:
    """Each table of `schema` to `folder/tables/<table>.copy`, each file's checksum and size added to `files`
    as it is written; returns what the manifest says of the tables."""
    quote = connection.ops.quote_name
    (folder / TABLES_DIR).mkdir()
    cursor.execute(SCHEMA_TABLES, {"schema": schema})
    tables = {}
    for table, columns, identity in cursor.fetchall():
        qualified = f"{quote(schema)}.{quote(table)}"
        listed = ", ".join(quote(column) for column in columns)
        filename = f"{TABLES_DIR}/{table}.copy"
        digest, size = hashlib.sha256(), 0
        with (folder / filename).open("wb") as out:
            with cursor.copy(f"COPY {qualified} ({listed}) TO STDOUT") as copy:
                for data in copy:
                    out.write(data)
                    digest.update(data)
                    size += len(data)
        rows = cursor.rowcount  # psycopg sets it from COPY's command tag: no second scan with count(*)
        files[filename] = {"sha256": digest.hexdigest(), "size": size}
        sequence = None
        if identity:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [qualified, identity])
            (name,) = cursor.fetchone()
            cursor.execute(f"SELECT last_value, is_called FROM {name}")  # a name PostgreSQL quoted
            last_value, is_called = cursor.fetchone()
            sequence = {"column": identity, "last_value": last_value, "is_called": is_called}
        tables[table] = {"columns": columns, "rows": rows, "sequence": sequence}
    return tables


def _save(name: str, path: Path) -> str:
    with _storage_errors(f"save {name}"), path.open("rb") as handle:
        return _storage().save(name, File(handle, name=Path(name).name))


# --- Services -----------------------------------------------------------------------------------


def lock_table_shortfall() -> str:
    """Why pg_dump of the whole database would fail, or "". pg_dump holds a lock on every table and
    sequence it dumps in one transaction; PostgreSQL's shared lock table has room for
    max_locks_per_transaction x (max_connections + max_prepared_transactions) of them. With a schema per
    workspace that is passed at a few hundred workspaces on the defaults (64 x 100)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p', 'S', 'm', 'v', 'f')"
            " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
        )
        relations = cursor.fetchone()[0]
        cursor.execute(
            "SELECT current_setting('max_locks_per_transaction')::int, current_setting('max_connections')::int,"
            " current_setting('max_prepared_transactions')::int"
        )
        per_transaction, connections_, prepared = cursor.fetchone()
    capacity = per_transaction * (connections_ + prepared)
    # Room for everything else the server is doing meanwhile: a quarter of the table.
    if relations <= capacity * 3 // 4:
        return ""
    needed = -(-relations * 4 // 3 // (connections_ + prepared))
    return (
        f"the database has {relations:,} tables and sequences, and pg_dump locks each of them: PostgreSQL's "
        f"lock table holds {capacity:,} (max_locks_per_transaction={per_transaction} x "
        f"{connections_ + prepared} connections). Set max_locks_per_transaction to at least {needed} "
        "(ALTER SYSTEM SET max_locks_per_transaction = ...; then restart PostgreSQL)."
    )


def database_backup() -> Backup:
    """The whole database (`pg_dump --format=custom`), with a manifest beside it; old ones expire."""
    connection.set_schema_to_public()
    shortfall = lock_table_shortfall()
    if shortfall:
        raise BackupError(f"the whole-database backup cannot run: {shortfall}")
    _, server = server_version()
    created = timezone.now()
    prefix = DATABASE_PREFIX
    with tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "database.dump"
        _run([pg_program("pg_dump"), "--format=custom", "--no-owner", "--file", str(dump)])
        manifest = {
            "format": FORMAT,
            "kind": "database",
            "created_at": created.isoformat(),
            "app_version": app_version(),
            "postgresql_version": server,
            "database": connection.settings_dict["NAME"],
            "files": {"database.dump": {"sha256": _sha256(dump), "size": dump.stat().st_size}},
        }
        stamp = created.strftime(STAMP)
        name = _save(f"{prefix}/{stamp}.dump", dump)
        manifest_path = Path(scratch) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2))
        _save(f"{prefix}/{stamp}.json", manifest_path)
    expired = _expire(prefix)
    caches["public"].delete(STATUS_CACHE_KEY)
    logger.info("backup: database to %s (%d expired)", name, len(expired))
    return Backup(name=name, size=manifest["files"]["database.dump"]["size"], manifest=manifest)


def _public_rows(tenant: Tenant) -> dict:
    rows = {
        "tenants.tenant": serializers.serialize("python", [tenant]),
        "tenants.domain": serializers.serialize("python", Domain.objects.filter(tenant=tenant).order_by("pk")),
    }
    for model in _tenant_models():
        queryset = model._default_manager.filter(**{_tenant_field(model): tenant}).order_by("pk")
        rows[model._meta.label_lower] = serializers.serialize("python", queryset)
    return rows


def workspace_backup(*, tenant: Tenant, actor: str = "system", audit: bool = True) -> Backup:
    """One workspace: its schema's rows and its public rows in one tar with a checksum manifest. The nightly
    run passes audit=False: a scheduled copy changes nothing, and its trail would drown the rest."""
    connection.set_schema_to_public()
    tenant.refresh_from_db()
    _, server = server_version()
    created = timezone.now()
    prefix = f"{WORKSPACES_PREFIX}/{tenant.subdomain}"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with _repeatable_read() as cursor:
            public = json.dumps(_public_rows(tenant), cls=DjangoJSONEncoder, indent=1).encode()
            (folder / PUBLIC_ROWS).write_bytes(public)
            files = {PUBLIC_ROWS: {"sha256": hashlib.sha256(public).hexdigest(), "size": len(public)}}
            tables = _dump_schema(cursor, tenant.schema_name, folder, files)
            migrations = _migrations_digest(tenant.schema_name)
        manifest = {
            "format": FORMAT,
            "kind": "workspace",
            "subdomain": tenant.subdomain,
            "schema": tenant.schema_name,
            "tenant_id": tenant.pk,
            "created_at": created.isoformat(),
            "app_version": app_version(),
            "postgresql_version": server,
            "migrations": migrations,
            "tables": tables,
            "files": files,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
        (folder / SIGNATURE).write_text(manifest_signature((folder / MANIFEST).read_bytes()))
        archive = folder / "backup.tar"
        with tarfile.open(archive, "w") as tar:
            for name in (MANIFEST, SIGNATURE, *files):
                tar.add(folder / name, arcname=name)
        size = archive.stat().st_size
        name = _save(f"{prefix}/{created.strftime(STAMP)}.tar", archive)
    if audit:  # before expiring: the backup is stored, whatever expiring old ones does
        audit_record(tenant=tenant, actor=actor, action=ConsoleAction.TENANT_BACKED_UP, details={"backup": name})
    expired = _expire(prefix)
    logger.info("backup: workspace %s to %s (%d expired)", tenant.subdomain, name, len(expired))
    return Backup(name=name, size=size, manifest=manifest)


def workspaces_backup_all() -> dict:
    """Every workspace (closed ones until purged, too), one after the other: the nightly run, so that any
    workspace can be restored on its own to any of the last BACKUP_KEEP_DAYS nights. A workspace that
    fails is logged and listed and the others go on. What the run did is stored at NIGHTLY_RUN."""
    started = timezone.now()
    purged_backups_delete()
    backed_up, failed, newest = 0, {}, None
    for tenant in Tenant.objects.workspaces().order_by("pk").iterator():
        try:
            newest = workspace_backup(tenant=tenant, audit=False).name
            backed_up += 1
        except Exception as error:  # one workspace's failure must not cost the others their backup
            connection.set_schema_to_public()
            failed[tenant.subdomain] = f"{type(error).__name__}: {error}"[:300]
            logger.error("backup: workspace %s failed: %s", tenant.subdomain, failed[tenant.subdomain])
    run = {
        "started_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "backed_up": backed_up,
        "failed": failed,
        "newest": newest,
    }
    storage = _storage()
    with _storage_errors(f"save {NIGHTLY_RUN}"):
        if storage.exists(NIGHTLY_RUN):
            storage.delete(NIGHTLY_RUN)
        storage.save(NIGHTLY_RUN, ContentFile(json.dumps(run, indent=2).encode()))
    caches["public"].delete(STATUS_CACHE_KEY)
    logger.info("backup: %d workspaces backed up, %d failed", backed_up, len(failed))
    return run


def purged_backups_delete() -> list[str]:
    """Delete the backups of workspaces that no longer exist: a purge deletes a workspace's data for good,
    its backups included, and a subdomain taken again must not show the old one's backups. Run after every
    purge and by the nightly run; returns the subdomains whose backups went."""
    storage = _storage()
    with _storage_errors(f"list {WORKSPACES_PREFIX}"):
        try:
            folders = storage.listdir(WORKSPACES_PREFIX)[0]
        except FileNotFoundError:
            return []
    live = set(Tenant.objects.workspaces().values_list("subdomain", flat=True))
    deleted = []
    for folder in sorted(set(folders) - live):
        filenames = _listdir(f"{WORKSPACES_PREFIX}/{folder}")
        for filename in filenames:
            with _storage_errors(f"delete {WORKSPACES_PREFIX}/{folder}/{filename}"):
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


def backup_status() -> dict:
    """When the newest whole-database backup was made and what the last nightly run did, for the operators'
    dashboard: kept in the shared cache (the storage is two round trips away, an S3 bucket's ~100 ms),
    dropped by each backup run. Raises BackupError when the storage cannot be read (never cached)."""
    status = caches["public"].get(STATUS_CACHE_KEY)
    if status is None:
        status = {"database_made_at": newest_database_backup_at(), "nightly_run": workspaces_backup_last_run()}
        caches["public"].set(STATUS_CACHE_KEY, status, STATUS_CACHE_SECONDS)
    return status


def workspaces_backup_last_run() -> dict | None:
    """What the last nightly run of workspace backups did (workspaces_backup_all), or None."""
    try:
        return json.loads(_read(NIGHTLY_RUN))
    except (FileNotFoundError, ValueError):
        return None


def database_backup_verify() -> dict:
    """The newest whole-database backup: its checksum against its manifest, and pg_restore reading its table
    of contents. Returns its manifest; raises BackupError when there is none or it is damaged."""
    newest = _newest_database_dump()
    if newest is None:
        raise BackupError("no whole-database backup yet")
    _, dump = newest
    try:
        manifest = json.loads(_read(dump[: -len(".dump")] + ".json"))
    except (FileNotFoundError, ValueError):
        raise BackupError(f"{dump} has no readable manifest") from None
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / "database.dump"
        _fetch(dump, local)
        if _sha256(local) != manifest.get("files", {}).get("database.dump", {}).get("sha256"):
            raise BackupError(f"{dump}: checksum mismatch: the dump is damaged or altered")
        _run([pg_program("pg_restore"), "--list", str(local)], text=True)
    return {**manifest, "name": dump}


def workspace_backups(*, subdomain: str) -> list[str]:
    """A workspace's backups in the storage, oldest first."""
    prefix = f"{WORKSPACES_PREFIX}/{subdomain}"
    return sorted(f"{prefix}/{name}" for name in _listdir(prefix) if name.endswith(".tar"))


@dataclass(frozen=True)
class StoredBackup:
    name: str  # in the backups storage: what workspace_restore(backup=...) takes
    made_at: datetime | None
    size: int


def workspace_backup_list(*, subdomain: str) -> list[StoredBackup]:
    """A workspace's backups with when they were made and their size, newest first."""
    storage = _storage()
    with _storage_errors(f"list the backups of {subdomain}"):
        return [
            StoredBackup(name=name, made_at=_stamp_of(name), size=storage.size(name))
            for name in reversed(workspace_backups(subdomain=subdomain))
        ]


# --- Restore ------------------------------------------------------------------------------------


def manifest_signature(manifest: bytes) -> str:
    """The signature stored beside a manifest (Django's signing: SECRET_KEY, salted for this use)."""
    return signing.Signer(salt=SIGNING_SALT).sign(hashlib.sha256(manifest).hexdigest())


def _signature_valid(manifest: bytes, signature: str) -> bool:
    try:
        return signing.Signer(salt=SIGNING_SALT).unsign(signature.strip()) == hashlib.sha256(manifest).hexdigest()
    except signing.BadSignature:
        return False


def _open_archive(backup: str | Path, folder: Path) -> dict:
    """Unpack the archive (a local path, or a name in the backups storage) and check it completely."""
    with tempfile.TemporaryDirectory() as download:
        local = backup  # a Path: a local file given on the command line; a str: a name in the storage
        if not isinstance(local, Path):
            local = Path(download) / "archive.tar"
            try:
                _fetch(str(backup), local)
            except (FileNotFoundError, SuspiciousFileOperation):  # not in the storage, or a path out of it
                raise BackupError(f"no backup {backup}") from None
        if not local.is_file():
            raise BackupError(f"no backup {backup}")
        try:
            with tarfile.open(local, mode="r:") as tar:
                names = {member.name for member in tar.getmembers() if member.isfile()}
                if MANIFEST not in names or PUBLIC_ROWS not in names:
                    raise BackupError(f"{backup} is not a workspace backup (it holds {sorted(names)[:5]})")
                tar.extractall(folder, filter="data")
        except tarfile.TarError as error:
            raise BackupError(f"{backup} is not a readable archive: {error}") from None
    signature = folder / SIGNATURE
    if not signature.is_file() or not _signature_valid((folder / MANIFEST).read_bytes(), signature.read_text()):
        raise BackupError(
            f"{backup}: its manifest is not signed with this deployment's key: it was altered, or made by another "
            "deployment (SECRET_KEY_FALLBACKS keeps an old key's backups valid)"
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except ValueError:
        raise BackupError(f"{backup}: its manifest is not valid JSON") from None
    if manifest.get("format") != FORMAT or manifest.get("kind") != "workspace":
        raise BackupError(
            f"{backup} is of format {manifest.get('format')!r} ({manifest.get('kind')!r}); this version reads "
            f"workspace backups of format {FORMAT} only"
        )
    listed = manifest.get("files") or {}
    expected = {PUBLIC_ROWS, *(f"{TABLES_DIR}/{table}.copy" for table in manifest.get("tables") or {})}
    if set(listed) != expected or names != {MANIFEST, SIGNATURE, *expected}:
        raise BackupError(f"{backup}: the files in the archive are not the ones its manifest lists")
    for filename, entry in listed.items():
        if entry.get("sha256") != _sha256(folder / filename):
            raise BackupError(f"{backup}: checksum mismatch for {filename}: the archive is damaged or altered")
    current = _migrations_digest(settings.TENANT_BASE_SCHEMA)
    if manifest.get("migrations") != current:
        raise BackupError(
            f"{backup} was made at another migration state (app version {manifest.get('app_version')}): "
            "restore it with the release that made it"
        )
    return manifest


def _load_schema(folder: Path, manifest: dict, *, target: str) -> dict[str, int]:
    """Create schema `target` with the template's tables and the backup's rows, in the caller's transaction;
    returns the rows loaded into each table (COPY's count).
    The template has the backup's migrations (checked), so its tables are the ones the backup was made of.
    Every name the manifest gives (tables, columns, identity columns) must be the template's: the manifest
    is data from the storage, and only the template's own names reach SQL."""
    tables = manifest["tables"]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(COPY_SETTINGS)
        cursor.execute(SCHEMA_TABLES, {"schema": settings.TENANT_BASE_SCHEMA})
        template = {name: (columns, identity) for name, columns, identity in cursor.fetchall()}
    if not isinstance(tables, dict) or set(template) != set(tables):
        differ = sorted(set(template) ^ set(tables if isinstance(tables, dict) else []))[:5]
        raise BackupError(f"the backup's tables differ from this release's: {', '.join(differ)}")
    for table, entry in tables.items():
        columns, identity = template[table]
        sequence = entry.get("sequence")
        if sorted(entry.get("columns") or []) != sorted(columns):
            raise BackupError(f"the backup's columns of {table} differ from this release's")
        if sequence is not None and (
            sequence.get("column") != identity
            or not isinstance(sequence.get("last_value"), int)
            or not isinstance(sequence.get("is_called"), bool)
        ):
            raise BackupError(f"the backup's sequence of {table} is not this release's")

    loaded = {}

    def fill(cursor, table: str, qualified: str) -> None:
        listed = ", ".join(quote(column) for column in tables[table]["columns"])
        with (folder / TABLES_DIR / f"{table}.copy").open("rb") as rows:
            with cursor.copy(f"COPY {qualified} ({listed}) FROM STDIN") as copy:
                for chunk in iter(lambda: rows.read(1 << 16), b""):
                    copy.write(chunk)
        loaded[table] = cursor.rowcount  # psycopg sets it from COPY's command tag

    clone.schema_clone(source=settings.TENANT_BASE_SCHEMA, target=target, fill=fill)
    with connection.cursor() as cursor:
        for table, entry in tables.items():
            sequence = entry.get("sequence")
            if sequence:  # where the sequence was, not max(id): ids of deleted rows are not handed out again
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), %s, %s)",
                    [
                        f"{quote(target)}.{quote(table)}",
                        sequence["column"],
                        sequence["last_value"],
                        sequence["is_called"],
                    ],
                )
    return {table: loaded[table] for table in tables}


def restore_check(backup: str | Path) -> dict[str, int]:
    """Restore the backup into a scratch schema and roll it back: proves it restorable without touching any
    workspace. Returns the rows loaded into each table (checked against the manifest)."""
    connection.set_schema_to_public()
    scratch_schema = f"restore_{secrets.token_hex(8)}"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        manifest = _open_archive(backup, folder)
        with transaction.atomic():
            counts = _load_schema(folder, manifest, target=scratch_schema)
            transaction.set_rollback(True)
    wrong = sorted(table for table, entry in manifest["tables"].items() if counts[table] != entry["rows"])
    if wrong:
        raise BackupError(f"{backup}: restored row counts differ from the manifest in {', '.join(wrong)}")
    return counts


def _labels_current(public):
    """An archive's public rows under today's model labels (MOVED_LABELS): archives made before a model moved
    to another app restore like new ones."""
    if not isinstance(public, dict):
        return public
    current = {}
    for label, rows in public.items():
        moved = MOVED_LABELS.get(label, label)
        if moved != label and isinstance(rows, list):
            rows = [{**row, "model": moved} if isinstance(row, dict) else row for row in rows]
        current[moved] = rows
    return current


def _objects(rows: list[dict]) -> list[models.Model]:
    return [item.object for item in serializers.deserialize("python", rows, ignorenonexistent=True)]


def _rows_of(public: dict, label: str, *, tenant_id: int) -> list[models.Model]:
    """The backup's rows of one model, each checked to belong to the workspace the backup is of."""
    rows = public.get(label, [])
    if not isinstance(rows, list):
        raise BackupError(f"the backup's {label} rows are not a list")
    try:
        objects = _objects(rows)
    except (serializers.base.DeserializationError, ValidationError, ValueError, TypeError) as error:
        raise BackupError(f"the backup's {label} rows cannot be read: {error}") from None
    model = apps.get_model(label)
    attname = model._meta.get_field("id" if model is Tenant else _tenant_field(model)).attname
    if any(not isinstance(row, model) or getattr(row, attname) != tenant_id for row in objects):
        raise BackupError(f"the backup's {label} rows include rows of another workspace")
    return objects


def _replace_public_rows(tenant: Tenant, public: dict) -> None:
    """The workspace's public rows become the backup's (same primary keys); history is only added to. Its
    domains stay as they are: they are routing, not data, and a restore never changes its address."""
    (saved_tenant,) = _rows_of(public, "tenants.tenant", tenant_id=tenant.pk)
    saved_tenant.schema_name, saved_tenant.subdomain = tenant.schema_name, tenant.subdomain
    models.Model.save_base(saved_tenant, raw=True)
    for model in _tenant_models():
        label = model._meta.label_lower
        rows = _rows_of(public, label, tenant_id=tenant.pk)
        if model not in HISTORY:
            model._default_manager.filter(**{_tenant_field(model): tenant}).delete()
        model._default_manager.bulk_create(rows, ignore_conflicts=model in HISTORY)


def _copy_public_rows(public: dict, *, source_id: int, subdomain: str, schema_name: str) -> Tenant:
    """A new workspace with the backup's public rows (new primary keys), its own host, and no Stripe rows."""
    (copy,) = _rows_of(public, "tenants.tenant", tenant_id=source_id)
    copy.pk, copy.schema_name, copy.subdomain = None, schema_name, subdomain
    # A copy is kept until an operator closes it: never purged because its original was closed.
    copy.kind, copy.closed_at = Tenant.Kind.WORKSPACE, None
    copy.save()
    Domain.objects.create(domain=copy.host, tenant=copy, is_primary=True)
    for model in _tenant_models():
        if model in STRIPE_BOUND:
            continue
        field = model._meta.get_field(_tenant_field(model))
        rows = _rows_of(public, model._meta.label_lower, tenant_id=source_id)
        for row in rows:
            row.pk = None
            setattr(row, field.attname, copy.pk)
        model._default_manager.bulk_create(rows)
    return copy


def workspace_restore(
    *,
    backup: str | Path,
    as_subdomain: str | None = None,
    of_tenant_id: int | None = None,
    actor: str = "system",
    progress: Callable[[str], None] | None = None,
) -> Tenant:
    """Restore a workspace backup into its own workspace (schema and public rows replaced), or with
    `as_subdomain` alongside it as a new workspace. `backup` is a name in the backups storage, or a Path to
    a local file (the command line only). With `of_tenant_id` the archive must be a backup of that
    workspace (the admin's restore of one workspace's backups). Raises BackupError, with nothing changed,
    for a damaged, altered or foreign archive, or a workspace too busy to swap. `progress` is called with a
    short sentence at each step."""
    report = progress or (lambda step: None)
    connection.set_schema_to_public()
    report("checking the archive")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        manifest = _open_archive(backup, folder)
        public = _labels_current(json.loads((folder / PUBLIC_ROWS).read_text()))
        source, source_id = manifest.get("schema"), manifest.get("tenant_id")
        if not isinstance(source, str) or not isinstance(source_id, int) or not isinstance(public, dict):
            raise BackupError(f"{backup}: its manifest does not name a workspace")
        if of_tenant_id is not None and source_id != of_tenant_id:
            raise BackupError(f"{backup} is not a backup of this workspace (it is of {manifest.get('subdomain')!r})")
        if as_subdomain is None:
            tenant = Tenant.objects.workspaces().filter(pk=source_id, schema_name=source).first()
            if tenant is None or tenant.subdomain != manifest.get("subdomain"):
                raise BackupError(
                    f"workspace {manifest.get('subdomain')} ({source}) no longer exists under that address: "
                    "restore it --as"
                )
        else:
            as_subdomain = subdomain_normalize(as_subdomain)
            try:
                subdomain_validate(as_subdomain)
            except ValidationError as error:
                raise BackupError(f"{as_subdomain}: {' '.join(error.messages)}") from None

        # Cached routes need no forgetting here: saving the Tenant row (in place) or creating the Tenant and its
        # Domain (--as) forgets them, through the signals of tenants/routing.py, now and again at the commit.
        quote = connection.ops.quote_name
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                if as_subdomain is None:
                    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
                    scratch_schema = f"restore_{secrets.token_hex(8)}"
                    report("loading the workspace's tables")
                    _load_schema(folder, manifest, target=scratch_schema)
                    report("switching the workspace to the restored data")
                    retired = f"retired_{secrets.token_hex(8)}"
                    cursor.execute(f"ALTER SCHEMA {quote(source)} RENAME TO {quote(retired)}")
                    cursor.execute(f"ALTER SCHEMA {quote(scratch_schema)} RENAME TO {quote(source)}")
                    cursor.execute(f"DROP SCHEMA {quote(retired)} CASCADE")
                    _replace_public_rows(tenant, public)
                    restored = Tenant.objects.get(pk=tenant.pk)
                else:
                    host = f"{as_subdomain}.{settings.BASE_DOMAIN}"
                    taken = Tenant.objects.filter(subdomain=as_subdomain).exists()
                    if taken or Domain.objects.filter(domain=host).exists():
                        raise BackupError(f"the subdomain {as_subdomain} is taken")
                    schema_name = f"ws_{secrets.token_hex(8)}"
                    report("loading the workspace's tables")
                    _load_schema(folder, manifest, target=schema_name)
                    report("creating the new workspace")
                    restored = _copy_public_rows(
                        public, source_id=source_id, subdomain=as_subdomain, schema_name=schema_name
                    )
                audit_record(
                    tenant=restored,
                    actor=actor,
                    action=ConsoleAction.TENANT_RESTORED,
                    details={"backup": str(backup), "backup_made": manifest["created_at"], "of": manifest["subdomain"]},
                )
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", "") == LOCK_NOT_AVAILABLE:
                raise BackupError(
                    f"the workspace stayed busy for {LOCK_TIMEOUT} (a long request or job on its tables): nothing "
                    "was changed; try again"
                ) from None
            raise
        except IntegrityError as error:  # the --as subdomain taken meanwhile, or a row the backup repeats
            raise BackupError(f"the restore conflicts with existing rows, nothing was changed: {error}") from None
    logger.info(
        "restore: %s from %s (made %s)",
        restored.subdomain,
        backup,
        manifest["created_at"],
        extra={"restored_workspace": restored.subdomain, "backup": str(backup), "backup_of": manifest["subdomain"]},
    )
    return restored
