"""What the backup tests compare: every row of a workspace's schema and its public rows, before and after."""

import json
import tarfile
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from console import backups
from console.audit import ConsoleAction
from tenants.models import Tenant

# Audit events that backing up and restoring write themselves: not part of the state a restore brings back.
BACKUP_ACTIONS = {ConsoleAction.TENANT_BACKED_UP, ConsoleAction.TENANT_RESTORED}


def schema_rows(schema: str) -> dict[str, list[tuple]]:
    """Every row of every table in the schema, table by table."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = %s::regnamespace ORDER BY 1",
            [schema],
        )
        tables = [name for (name,) in cursor.fetchall()]
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote(schema)}.{quote(table)} ORDER BY 1")
            rows[table] = cursor.fetchall()
    return rows


def public_rows(tenant: Tenant) -> str:
    """The workspace's public rows, leaving out the audit events that backing up and restoring write."""
    rows = backups.dumps.public_rows(Tenant.objects.get(pk=tenant.pk))
    rows["core.auditevent"] = [
        row for row in rows.get("core.auditevent", []) if row["fields"]["action"] not in BACKUP_ACTIONS
    ]
    return json.dumps(rows, cls=DjangoJSONEncoder, sort_keys=True)


def workspace_state(tenant: Tenant) -> tuple[dict, str]:
    return schema_rows(tenant.schema_name), public_rows(tenant)


def scratch_schemas() -> list[str]:
    """Schemas a restore works in: none may be left behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname ~ '^(restore|retired)_'")
        return [name for (name,) in cursor.fetchall()]


def workspace_change(tenant: Tenant) -> None:
    """Rows changed, deleted and added in the schema, and the public Tenant row changed."""
    with schema_context(tenant.schema_name):
        first, *rest = User.objects.exclude(email=tenant.owner_email).order_by("pk")
        User.objects.filter(pk=first.pk).update(full_name=f"{first.full_name} Changed")
        User.objects.filter(pk__in=[user.pk for user in rest]).delete()
        User.objects.create_user(f"carol@{tenant.subdomain}.test", "a long password here", full_name="Carol")
    connection.set_schema_to_public()
    Tenant.objects.filter(pk=tenant.pk).update(business_name="Renamed", plan="pro")


def flip_byte_in(archive: Path, member: str, *, at: int) -> None:
    """Damage the archive in place: invert the byte `at` bytes into the data of its `member`."""
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member).offset_data + at
    data = bytearray(archive.read_bytes())
    data[offset] ^= 0xFF
    archive.write_bytes(bytes(data))
