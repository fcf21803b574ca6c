"""The pool of pre-migrated spare schemas that signup claims.

Creating a schema the django-tenants way replays every migration of every app (7-15 s with
dj-stripe installed). Instead, `template_ensure` migrates one template schema once, `spare_create`
copies it (tenants/schemas/clone.py, about 50 ms), and signup claims a ready spare in a few milliseconds. Spares and
the template are Tenant rows, so `migrate_workspaces` keeps them current like every workspace.
"""

import logging
import secrets

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django_tenants.utils import schema_exists

from core.db import connection
from core.queue import defer_once
from tenants.models import Tenant
from tenants.schemas.clone import schema_clone

logger = logging.getLogger(__name__)

# Keys for PostgreSQL advisory locks: they serialize work across every process on every machine.
FILL_LOCK = 7_301_001
TEMPLATE_LOCK = 7_301_002


def template_ensure(*, verbosity: int = 0) -> Tenant:
    """Create the template schema once, with every tenant migration applied (slow, one time only)."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [TEMPLATE_LOCK])
    try:
        template, _ = Tenant.objects.get_or_create(
            schema_name=settings.TENANT_BASE_SCHEMA, defaults={"kind": Tenant.Kind.TEMPLATE}
        )
        if not schema_exists(template.schema_name):
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE SCHEMA {connection.ops.quote_name(template.schema_name)}")
            # dj-stripe is a shared app: in a workspace schema its migration creates nothing (the router skips
            # it), yet replaying it in memory was half of the template's migration (8 of 15 s). Recorded first
            # (with its dependency, tenants' first migration, also shared), it is loaded into the migration
            # state without being replayed; the schema is the same (tests/billing/test_djstripe_migrations.py).
            call_command(
                "migrate_schemas",
                "djstripe",
                tenant=True,
                schema_name=template.schema_name,
                fake=True,
                interactive=False,
                verbosity=verbosity,
            )
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=template.schema_name,
                interactive=False,
                verbosity=verbosity,
            )
            connection.set_schema_to_public()
        return template
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [TEMPLATE_LOCK])


def spare_create() -> Tenant:
    """Copy the template into a new spare schema. Row and schema commit together or not at all."""
    schema_name = f"ws_{secrets.token_hex(8)}"
    with transaction.atomic():
        connection.set_schema_to_public()
        spare = Tenant.objects.create(schema_name=schema_name, kind=Tenant.Kind.SPARE)
        schema_clone(source=settings.TENANT_BASE_SCHEMA, target=schema_name)
    return spare


def spare_claim() -> Tenant | None:
    """Lock one spare for the caller's transaction; concurrent callers each get a different one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("spare_claim() must run inside the transaction that uses the spare")
    return Tenant.objects.spares().select_for_update(skip_locked=True).order_by("id").first()


def pool_fill(*, size: int | None = None) -> int:
    """Top the pool up to `size` spares; returns how many were made. One filler at a time anywhere."""
    target = settings.SCHEMA_POOL_SIZE if size is None else size
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [FILL_LOCK])
        if not cursor.fetchone()[0]:
            return 0
    try:
        made = 0
        while Tenant.objects.spares().count() < target:
            spare_create()
            made += 1
        return made
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [FILL_LOCK])


REFILL_TASK = "tenants.pool_refill"  # tenants/tasks.py


def pool_refill_soon() -> None:
    """Ask the worker to top the pool up once the current transaction commits: signup never waits for it.
    At most one refill waits in the queue at a time."""
    transaction.on_commit(lambda: defer_once(REFILL_TASK, lock="pool-refill"))
