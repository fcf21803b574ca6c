"""Making backups: the whole database (pg_dump) and one workspace (its tables as COPY text and its public
rows), the nightly run over every workspace, and their status for the dashboard and launch_check."""

import hashlib
import json
import logging
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from billing.models import BillingAccount, BillingEvent, Invoice
from console.audit import ConsoleAction
from console.backups import manifests, postgres, storage
from console.backups.storage import Backup, BackupError
from core.audit import AuditEvent, audit_record
from core.db import connection
from legal.models import LegalAcceptance
from notifications.models import EmailLog
from tenants.models import Domain, Tenant

logger = logging.getLogger(__name__)


STATUS_CACHE_KEY, STATUS_CACHE_SECONDS = "backups:status", 10 * 60  # backup_status()


# Public rows of a workspace that belong to its Stripe customer (unique Stripe ids): a copy made with
# `--as` gets none of them, so two workspaces never share a customer or a subscription.
STRIPE_BOUND: set[type[models.Model]] = {BillingAccount, Invoice, BillingEvent}


# Records of what happened: a restore rewinds a workspace's state, never its history. Rows of these made
# since the backup stay; rows the backup has and the table lost come back.
HISTORY: set[type[models.Model]] = {AuditEvent, EmailLog, BillingEvent, LegalAcceptance}


def tenant_models() -> list[type[models.Model]]:
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


def tenant_field(model) -> str:
    fields = model._meta.concrete_fields
    return next(f.name for f in fields if isinstance(f, models.ForeignKey) and f.related_model is Tenant)


def _newest_database_dump() -> tuple[datetime, str] | None:
    """When the newest whole-database backup was made and its name in the storage (None: there is none)."""
    made = [
        (storage.stamp_of(name), name) for name in storage.listdir(storage.DATABASE_PREFIX) if name.endswith(".dump")
    ]
    newest = max(((stamp, name) for stamp, name in made if stamp), default=None)
    return None if newest is None else (newest[0], f"{storage.DATABASE_PREFIX}/{newest[1]}")


def newest_database_backup_at() -> datetime | None:
    """When the newest whole-database backup in the backups storage was made (None: there is none)."""
    newest = _newest_database_dump()
    return None if newest is None else newest[0]


def _dump_schema(cursor, schema: str, folder: Path, files: dict) -> dict:
    """Each table of `schema` to `folder/tables/<table>.copy`, each file's checksum and size added to `files`
    as it is written; returns what the manifest says of the tables."""
    quote = connection.ops.quote_name
    (folder / manifests.TABLES_DIR).mkdir()
    cursor.execute(postgres.SCHEMA_TABLES, {"schema": schema})
    tables = {}
    for table, columns, identity in cursor.fetchall():
        qualified = f"{quote(schema)}.{quote(table)}"
        listed = ", ".join(quote(column) for column in columns)
        filename = f"{manifests.TABLES_DIR}/{table}.copy"
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
            sequence = {
                "column": identity,
                "last_value": last_value,
                "is_called": is_called,
            }
        tables[table] = {"columns": columns, "rows": rows, "sequence": sequence}
    return tables


def database_backup() -> Backup:
    """The whole database (`pg_dump --format=custom`), with a manifest beside it; old ones expire."""
    connection.set_schema_to_public()
    shortfall = postgres.lock_table_shortfall()
    if shortfall:
        raise BackupError(f"the whole-database backup cannot run: {shortfall}")
    _, server = postgres.server_version()
    created = timezone.now()
    prefix = storage.DATABASE_PREFIX
    with tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "database.dump"
        postgres.run(
            [
                postgres.pg_program("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(dump),
            ]
        )
        manifest = {
            "format": manifests.FORMAT,
            "kind": "database",
            "created_at": created.isoformat(),
            "app_version": postgres.app_version(),
            "postgresql_version": server,
            "database": connection.settings_dict["NAME"],
            "files": {
                "database.dump": {
                    "sha256": manifests.file_sha256(dump),
                    "size": dump.stat().st_size,
                }
            },
        }
        stamp = created.strftime(storage.STAMP)
        name = storage.save(f"{prefix}/{stamp}.dump", dump)
        manifest_path = Path(scratch) / manifests.MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2))
        storage.save(f"{prefix}/{stamp}.json", manifest_path)
    expired = storage.expire(prefix)
    caches["public"].delete(STATUS_CACHE_KEY)
    logger.info("backup: database to %s (%d expired)", name, len(expired))
    return Backup(name=name, size=manifest["files"]["database.dump"]["size"], manifest=manifest)


def public_rows(tenant: Tenant) -> dict:
    rows = {
        "tenants.tenant": serializers.serialize("python", [tenant]),
        "tenants.domain": serializers.serialize("python", Domain.objects.filter(tenant=tenant).order_by("pk")),
    }
    for model in tenant_models():
        queryset = model._default_manager.filter(**{tenant_field(model): tenant}).order_by("pk")
        rows[model._meta.label_lower] = serializers.serialize("python", queryset)
    return rows


def workspace_backup(*, tenant: Tenant, actor: str = "system", audit: bool = True) -> Backup:
    """One workspace: its schema's rows and its public rows in one tar with a checksum manifest. The nightly
    run passes audit=False: a scheduled copy changes nothing, and its trail would drown the rest."""
    connection.set_schema_to_public()
    tenant.refresh_from_db()
    _, server = postgres.server_version()
    created = timezone.now()
    prefix = f"{storage.WORKSPACES_PREFIX}/{tenant.subdomain}"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with postgres.repeatable_read() as cursor:
            public = json.dumps(public_rows(tenant), cls=DjangoJSONEncoder, indent=1).encode()
            (folder / manifests.PUBLIC_ROWS).write_bytes(public)
            files = {
                manifests.PUBLIC_ROWS: {
                    "sha256": hashlib.sha256(public).hexdigest(),
                    "size": len(public),
                }
            }
            tables = _dump_schema(cursor, tenant.schema_name, folder, files)
            migrations = postgres.migrations_digest(tenant.schema_name)
            workspace_migrations = postgres.migrations_digest(
                tenant.schema_name, app_labels=postgres.workspace_app_labels()
            )
        manifest = {
            "format": manifests.FORMAT,
            "kind": "workspace",
            "subdomain": tenant.subdomain,
            "schema": tenant.schema_name,
            "tenant_id": tenant.pk,
            "created_at": created.isoformat(),
            "app_version": postgres.app_version(),
            "postgresql_version": server,
            "migrations": migrations,
            "workspace_migrations": workspace_migrations,
            "tables": tables,
            "files": files,
        }
        (folder / manifests.MANIFEST).write_text(json.dumps(manifest, indent=2))
        (folder / manifests.SIGNATURE).write_text(
            manifests.manifest_signature((folder / manifests.MANIFEST).read_bytes())
        )
        archive = folder / "backup.tar"
        with tarfile.open(archive, "w") as tar:
            for name in (manifests.MANIFEST, manifests.SIGNATURE, *files):
                tar.add(folder / name, arcname=name)
        size = archive.stat().st_size
        name = storage.save(f"{prefix}/{created.strftime(storage.STAMP)}.tar", archive)
    if audit:  # before expiring: the backup is stored, whatever expiring old ones does
        audit_record(
            tenant=tenant,
            actor=actor,
            action=ConsoleAction.TENANT_BACKED_UP,
            details={"backup": name},
        )
    expired = storage.expire(prefix)
    logger.info("backup: workspace %s to %s (%d expired)", tenant.subdomain, name, len(expired))
    return Backup(name=name, size=size, manifest=manifest)


def workspaces_backup_all() -> dict:
    """Every workspace (closed ones until purged, too), one after the other: the nightly run, so that any
    workspace can be restored on its own to any of the last BACKUP_KEEP_DAYS nights. A workspace that
    fails is logged and listed and the others go on. What the run did is stored at storage.NIGHTLY_RUN."""
    started = timezone.now()
    storage.purged_backups_delete()
    backed_up, failed, newest = 0, {}, None
    for tenant in Tenant.objects.workspaces().order_by("pk").iterator():
        try:
            newest = workspace_backup(tenant=tenant, audit=False).name
            backed_up += 1
        except Exception as error:  # one workspace's failure must not cost the others their backup
            connection.set_schema_to_public()
            failed[tenant.subdomain] = f"{type(error).__name__}: {error}"[:300]
            logger.error(
                "backup: workspace %s failed: %s",
                tenant.subdomain,
                failed[tenant.subdomain],
            )
    run = {
        "started_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "backed_up": backed_up,
        "failed": failed,
        "newest": newest,
    }
    files = storage.backups_storage()
    with storage.storage_errors(f"save {storage.NIGHTLY_RUN}"):
        if files.exists(storage.NIGHTLY_RUN):
            files.delete(storage.NIGHTLY_RUN)
        files.save(storage.NIGHTLY_RUN, ContentFile(json.dumps(run, indent=2).encode()))
    caches["public"].delete(STATUS_CACHE_KEY)
    logger.info("backup: %d workspaces backed up, %d failed", backed_up, len(failed))
    return run


def backup_status() -> dict:
    """When the newest whole-database backup was made and what the last nightly run did, for the operators'
    dashboard: kept in the shared cache (the storage is two round trips away, an S3 bucket's ~100 ms),
    dropped by each backup run. Raises BackupError when the storage cannot be read (never cached)."""
    status = caches["public"].get(STATUS_CACHE_KEY)
    if status is None:
        status = {
            "database_made_at": newest_database_backup_at(),
            "nightly_run": workspaces_backup_last_run(),
        }
        caches["public"].set(STATUS_CACHE_KEY, status, STATUS_CACHE_SECONDS)
    return status


def workspaces_backup_last_run() -> dict | None:
    """What the last nightly run of workspace backups did (workspaces_backup_all), or None."""
    try:
        return json.loads(storage.read(storage.NIGHTLY_RUN))
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
        manifest = json.loads(storage.read(dump[: -len(".dump")] + ".json"))
    except (FileNotFoundError, ValueError):
        raise BackupError(f"{dump} has no readable manifest") from None
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / "database.dump"
        storage.fetch(dump, local)
        if manifests.file_sha256(local) != manifest.get("files", {}).get("database.dump", {}).get("sha256"):
            raise BackupError(f"{dump}: checksum mismatch: the dump is damaged or altered")
        postgres.run([postgres.pg_program("pg_restore"), "--list", str(local)], text=True)
    return {**manifest, "name": dump}
