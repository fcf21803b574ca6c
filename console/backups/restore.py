"""A workspace back from its archive, in place or as a new workspace, in one transaction (nothing changes
when anything fails), and restore_check's trial restore into a scratch schema."""

import json
import logging
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, models, transaction

from console.audit import ConsoleAction
from console.backups import dumps, manifests, postgres
from console.backups.storage import BackupError
from core.audit import audit_record
from core.db import connection
from tenants.models import Domain, Tenant
from tenants.schemas import clone
from tenants.subdomains import subdomain_normalize, subdomain_validate

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=models.Model)


def _load_schema(folder: Path, manifest: dict, *, target: str) -> dict[str, int]:
    """Create schema `target` with the template's tables and the backup's rows, in the caller's transaction;
    returns the rows loaded into each table (COPY's count).
    The template has the backup's migrations (checked), so its tables are the ones the backup was made of.
    Every name the manifest gives (tables, columns, identity columns) must be the template's: the manifest
    is data from the storage, and only the template's own names reach SQL."""
    tables = manifest["tables"]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(postgres.COPY_SETTINGS)
        cursor.execute(postgres.SCHEMA_TABLES, {"schema": settings.TENANT_BASE_SCHEMA})
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
        with (folder / manifests.TABLES_DIR / f"{table}.copy").open("rb") as rows:
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
        manifest = manifests.open_archive(backup, folder)
        with transaction.atomic():
            counts = _load_schema(folder, manifest, target=scratch_schema)
            transaction.set_rollback(True)
    wrong = sorted(table for table, entry in manifest["tables"].items() if counts[table] != entry["rows"])
    if wrong:
        raise BackupError(f"{backup}: restored row counts differ from the manifest in {', '.join(wrong)}")
    return counts


def _objects(rows: list[dict]) -> list[models.Model]:
    return [item.object for item in serializers.deserialize("python", rows, ignorenonexistent=True)]


def _rows_of(public: dict, model: type[ModelT], *, tenant_id: int) -> list[ModelT]:
    """The backup's rows of one model, each checked to belong to the workspace the backup is of."""
    label = model._meta.label_lower
    rows = public.get(label, [])
    if not isinstance(rows, list):
        raise BackupError(f"the backup's {label} rows are not a list")
    try:
        objects = _objects(rows)
    except (
        serializers.base.DeserializationError,
        ValidationError,
        ValueError,
        TypeError,
    ) as error:
        raise BackupError(f"the backup's {label} rows cannot be read: {error}") from None
    attname = _workspace_attname(model)
    checked = [row for row in objects if isinstance(row, model) and getattr(row, attname) == tenant_id]
    if len(checked) != len(objects):
        raise BackupError(f"the backup's {label} rows include rows of another workspace")
    return checked


def _workspace_attname(model: type[models.Model]) -> str:
    """The attribute holding the id of a row's workspace: its foreign key's column, the id of a Tenant."""
    name = "id" if model is Tenant else dumps.tenant_field(model)
    return next(field.attname for field in model._meta.concrete_fields if field.name == name)


def _replace_public_rows(tenant: Tenant, public: dict) -> None:
    """The workspace's public rows become the backup's (same primary keys); history is only added to. Its
    domains stay as they are: they are routing, not data, and a restore never changes its address."""
    (saved_tenant,) = _rows_of(public, Tenant, tenant_id=tenant.pk)
    saved_tenant.schema_name, saved_tenant.subdomain = (
        tenant.schema_name,
        tenant.subdomain,
    )
    models.Model.save_base(saved_tenant, raw=True)
    for model in dumps.tenant_models():
        rows = _rows_of(public, model, tenant_id=tenant.pk)
        if model not in dumps.HISTORY:
            model._default_manager.filter(**{dumps.tenant_field(model): tenant}).delete()
        model._default_manager.bulk_create(rows, ignore_conflicts=model in dumps.HISTORY)


def _copy_public_rows(public: dict, *, source_id: int, subdomain: str, schema_name: str) -> Tenant:
    """A new workspace with the backup's public rows (new primary keys), its own host, and no Stripe rows."""
    (copy,) = _rows_of(public, Tenant, tenant_id=source_id)
    copy.pk, copy.schema_name, copy.subdomain = None, schema_name, subdomain
    # A copy is kept until an operator closes it: never purged because its original was closed.
    copy.kind, copy.closed_at = Tenant.Kind.WORKSPACE, None
    copy.save()
    Domain.objects.create(domain=copy.host, tenant=copy, is_primary=True)
    for model in dumps.tenant_models():
        if model in dumps.STRIPE_BOUND:
            continue
        attname = _workspace_attname(model)
        rows = _rows_of(public, model, tenant_id=source_id)
        for row in rows:
            row.pk = None
            setattr(row, attname, copy.pk)
        model._default_manager.bulk_create(rows)
    return copy


def _workspace_of(manifest: dict, *, schema_name: str, tenant_id: int) -> Tenant:
    """The workspace a backup restores into in place: still there, under the address it had."""
    tenant = Tenant.objects.workspaces().filter(pk=tenant_id, schema_name=schema_name).first()
    if tenant is None or tenant.subdomain != manifest.get("subdomain"):
        raise BackupError(
            f"workspace {manifest.get('subdomain')} ({schema_name}) no longer exists under that address: "
            "restore it --as"
        )
    return tenant


def _subdomain_checked(subdomain: str) -> str:
    """The subdomain of a restore --as, normalised and validated as signup would."""
    subdomain = subdomain_normalize(subdomain)
    try:
        subdomain_validate(subdomain)
    except ValidationError as error:
        raise BackupError(f"{subdomain}: {' '.join(error.messages)}") from None
    return subdomain


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
        manifest = manifests.open_archive(backup, folder)
        public = manifests.labels_current(json.loads((folder / manifests.PUBLIC_ROWS).read_text()))
        source, source_id = manifest.get("schema"), manifest.get("tenant_id")
        if not isinstance(source, str) or not isinstance(source_id, int) or not isinstance(public, dict):
            raise BackupError(f"{backup}: its manifest does not name a workspace")
        if of_tenant_id is not None and source_id != of_tenant_id:
            raise BackupError(f"{backup} is not a backup of this workspace (it is of {manifest.get('subdomain')!r})")
        if as_subdomain is None:
            tenant = _workspace_of(manifest, schema_name=source, tenant_id=source_id)
        else:
            as_subdomain = _subdomain_checked(as_subdomain)

        # Cached routes need no forgetting here: saving the Tenant row (in place) or creating the Tenant and its
        # Domain (--as) forgets them, through the signals of tenants/routing.py, now and again at the commit.
        quote = connection.ops.quote_name
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{postgres.LOCK_TIMEOUT}'")
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
                        public,
                        source_id=source_id,
                        subdomain=as_subdomain,
                        schema_name=schema_name,
                    )
                audit_record(
                    tenant=restored,
                    actor=actor,
                    action=ConsoleAction.TENANT_RESTORED,
                    details={
                        "backup": str(backup),
                        "backup_made": manifest["created_at"],
                        "of": manifest["subdomain"],
                    },
                )
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", "") == postgres.LOCK_NOT_AVAILABLE:
                raise BackupError(
                    f"the workspace stayed busy for {postgres.LOCK_TIMEOUT} (a long request or job on its tables): "
                    "nothing was changed; try again"
                ) from None
            raise
        except IntegrityError as error:  # the --as subdomain taken meanwhile, or a row the backup repeats
            raise BackupError(f"the restore conflicts with existing rows, nothing was changed: {error}") from None
    logger.info(
        "restore: %s from %s (made %s)",
        restored.subdomain,
        backup,
        manifest["created_at"],
        extra={
            "restored_workspace": restored.subdomain,
            "backup": str(backup),
            "backup_of": manifest["subdomain"],
        },
    )
    return restored
