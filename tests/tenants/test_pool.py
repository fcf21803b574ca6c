"""The spare-schema pool: fill, claim, and migrations that reach spares too."""

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tenants.models import Tenant
from tenants.schemas import pool

pytestmark = pytest.mark.django_db


def _applied_migrations(schema_name: str) -> set[tuple[str, str]]:
    with schema_context(schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return set(cursor.fetchall())


def test_spares_are_clones_of_the_migrated_template():
    spare = Tenant.objects.spares().first()
    assert schema_exists(spare.schema_name)
    assert _applied_migrations(spare.schema_name) == _applied_migrations("tenant_template")
    with schema_context(spare.schema_name):
        assert User.objects.count() == 0  # ready for its owner, nobody else


def test_pool_fill_tops_up_to_the_target_and_no_further():
    have = Tenant.objects.spares().count()
    assert pool.pool_fill(size=have + 2) == 2
    assert pool.pool_fill(size=have + 2) == 0
    assert Tenant.objects.spares().count() == have + 2


def test_migrate_schemas_covers_spares_template_and_workspaces(make_workspace, capsys):
    workspace = make_workspace("alpha")
    call_command("migrate_schemas", interactive=False, verbosity=1)
    out = capsys.readouterr().out
    for tenant in [workspace, *Tenant.objects.spares(), Tenant.objects.get(kind="template")]:
        assert tenant.schema_name in out
