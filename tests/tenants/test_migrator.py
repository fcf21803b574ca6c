"""migrate_workspaces (tenants/schemas/migrator.py) against Django's own executor, on real schemas.

New migrations for `accounts` (a column and an index, then a RunPython filling the column) come from a
temporary copy of the app's migrations, through MIGRATION_MODULES. Schemas are clones of the template
with people in them; the worker processes are real forks on the committed test database.
"""

import shutil
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from tenants.models import Tenant
from tenants.schemas import migrator
from tenants.schemas.clone import schema_clone

ROOT = Path(__file__).resolve().parents[2]

ADD_COLUMN = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "{previous}")]
    operations = [
        migrations.AddField("user", "nickname", models.CharField(max_length=50, null=True, blank=True)),
        migrations.AddIndex("user", models.Index(fields=["nickname"], name="accounts_user_nickname_idx")),
        # A new model: its content type and permissions come from post_migrate, in each schema.
        migrations.CreateModel("Note", [("id", models.BigAutoField(primary_key=True)), ("text", models.TextField())]),
    ]
"""

FILL_COLUMN = """
from django.db import migrations


def fill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    if User.objects.filter(email__startswith="boom@").exists():
        raise RuntimeError("this workspace cannot be migrated")
    for user in User.objects.all():
        user.nickname = user.email.split("@")[0]
        user.save(update_fields=["nickname"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "9001_nickname")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
"""


@pytest.fixture
def accounts_migrations(settings, tmp_path):
    """Point `accounts` at a copy of its migrations; `add(name, source)` adds one."""
    package = tmp_path / "accounts_migrations_under_test"
    shutil.copytree(ROOT / "accounts" / "migrations", package, ignore=shutil.ignore_patterns("__pycache__"))
    previous = max(path.stem for path in package.glob("0*.py"))
    sys.path.insert(0, str(tmp_path))
    settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, "accounts": package.name}

    def add(name: str, source: str) -> None:
        (package / f"{name}.py").write_text(source.format(previous=previous))
        for module in [m for m in sys.modules if m.startswith(package.name)]:
            del sys.modules[module]

    yield add
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m.startswith(package.name)]:
        del sys.modules[module]


def workspace_schema(name: str, emails: list[str]) -> str:
    """A committed schema cloned from the template, with a Tenant row and these people."""
    with transaction.atomic():
        connection.set_schema_to_public()
        Tenant.objects.create(schema_name=name, business_name=name)
        schema_clone(source=settings.TENANT_BASE_SCHEMA, target=name)
    with connection.cursor() as cursor:
        for email in emails:
            cursor.execute(
                f'INSERT INTO "{name}".accounts_user (password, is_superuser, email, full_name, role, is_active,'
                " is_staff, date_joined, session_version) VALUES ('!', false, %s, '', 'member', true, false, now(), 1)",
                [email],
            )
    return name


def snapshot(schema: str) -> dict:
    """What a migration leaves behind: history, columns, indexes, content types and permissions."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        history = set(cursor.fetchall())
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'accounts_user'",
            [schema],
        )
        columns = set(cursor.fetchall())
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", [schema])
        indexes = {(name, definition.replace(f"{schema}.", "")) for name, definition in cursor.fetchall()}
        cursor.execute(f'SELECT app_label, model FROM "{schema}".django_content_type')
        content_types = set(cursor.fetchall())
        cursor.execute(f'SELECT codename FROM "{schema}".auth_permission')
        permissions = set(cursor.fetchall())
    return {
        "history": history,
        "columns": columns,
        "indexes": indexes,
        "content_types": content_types,
        "permissions": permissions,
    }


def nicknames(schema: str) -> dict[str, str | None]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT email, nickname FROM "{schema}".accounts_user')
        return dict(cursor.fetchall())


def test_pending_migrations_run_in_every_schema_like_djangos_executor(committed_db, accounts_migrations):
    ours = [workspace_schema(f"mig_{n}", [f"ann@{n}.test", f"bob@{n}.test"]) for n in "abc"]
    reference = workspace_schema("mig_ref", ["ann@ref.test", "bob@ref.test"])
    accounts_migrations("9001_nickname", ADD_COLUMN)
    # mig_b is one migration ahead of the others: two histories, two plans.
    assert migrator.workspaces_migrate(schemas=["mig_b"], public=False, workers=1).ok
    accounts_migrations("9002_fill_nickname", FILL_COLUMN)

    report = migrator.workspaces_migrate(schemas=ours, public=False, workers=2)

    assert report.ok, report.failed
    assert sorted(result.schema for result in report.migrated) == ours
    call_command("migrate_schemas", tenant=True, schema_name=reference, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    expected = snapshot(reference)
    assert ("accounts", "9002_fill_nickname") in expected["history"]
    assert ("nickname", "character varying", "YES", 50) in expected["columns"]
    assert ("accounts", "note") in expected["content_types"] and ("add_note",) in expected["permissions"]
    for schema in ours:
        assert snapshot(schema) == expected, schema
        letter = schema[-1]
        assert nicknames(schema) == {f"ann@{letter}.test": "ann", f"bob@{letter}.test": "bob"}
    # The template and the spares were not asked for, and are untouched.
    assert ("accounts", "9001_nickname") not in snapshot(settings.TENANT_BASE_SCHEMA)["history"]

    again = migrator.workspaces_migrate(schemas=[*ours, reference], public=False, workers=2)
    assert (again.up_to_date, again.migrated, again.failed) == (4, [], [])


def test_a_failing_schema_is_reported_the_others_finish_and_a_rerun_completes(committed_db, accounts_migrations):
    schemas = [
        workspace_schema("mig_ok1", ["ann@ok1.test"]),
        workspace_schema("mig_bad", ["boom@bad.test", "ann@bad.test"]),
        workspace_schema("mig_ok2", ["ann@ok2.test"]),
    ]
    accounts_migrations("9001_nickname", ADD_COLUMN)
    accounts_migrations("9002_fill_nickname", FILL_COLUMN)

    with pytest.raises(CommandError, match="1 schema"):
        call_command("migrate_workspaces", schemas=schemas, skip_public=True, workers=2, verbosity=0)

    assert nicknames("mig_ok1") == {"ann@ok1.test": "ann"}
    assert nicknames("mig_ok2") == {"ann@ok2.test": "ann"}
    history = snapshot("mig_bad")["history"]
    assert ("accounts", "9001_nickname") in history  # its own transaction, committed
    assert ("accounts", "9002_fill_nickname") not in history  # rolled back, to be retried
    report = migrator.workspaces_migrate(schemas=schemas, public=False, workers=2)
    assert [result.schema for result in report.failed] == ["mig_bad"]
    assert "this workspace cannot be migrated" in report.failed[0].error

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM mig_bad.accounts_user WHERE email LIKE 'boom@%%'")
    report = migrator.workspaces_migrate(schemas=schemas, public=False, workers=2)
    assert report.ok and [result.schema for result in report.migrated] == ["mig_bad"]
    assert report.up_to_date == 2
    assert nicknames("mig_bad") == {"ann@bad.test": "ann"}


def test_a_second_run_waits_for_the_one_in_progress(committed_db):
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    holder = psycopg.connect(**params, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [migrator.MIGRATE_LOCK])
    waiting, finished = threading.Event(), threading.Event()

    def second_run():
        try:
            migrator.workspaces_migrate(schemas=[], public=False, on_wait=waiting.set)
        finally:
            connection.close()
            finished.set()

    thread = threading.Thread(target=second_run)
    thread.start()
    try:
        assert waiting.wait(10), "the second run did not notice the first"
        assert not finished.is_set()
    finally:
        holder.close()  # the first run ends
    assert finished.wait(10), "the second run did not go on once the lock was free"
    thread.join()


def test_the_release_step_migrates_every_kind_of_tenant_schema(committed_db):
    """Template, spares and workspaces are all found; with nothing pending, nothing is touched."""
    report = migrator.workspaces_migrate(public=True, workers=2)
    kinds = Tenant.objects.exclude(kind=Tenant.Kind.PUBLIC).count()
    assert report.ok and report.schemas == kinds and report.up_to_date == kinds
    assert report.public_migrations == 0


def test_a_schema_with_dj_stripes_upstream_history_is_up_to_date(committed_db):
    """Schemas migrated before billing/djstripe_migrations replaced dj-stripe's history hold upstream's three
    migrations and not the replacing one: Django counts that as applied, and nothing runs."""
    schema = workspace_schema("mig_upstream", ["ann@upstream.test"])
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {schema}.django_migrations WHERE app = 'djstripe' AND name LIKE '%%_squashed_%%'")
    before = snapshot(schema)
    assert ("djstripe", "0003_2_11") in before["history"]

    report = migrator.workspaces_migrate(schemas=[schema], public=False, workers=1)

    assert (report.up_to_date, report.migrated, report.failed) == (1, [], [])
    assert snapshot(schema) == before


def test_the_public_schema_records_a_replacing_migration_whose_replaced_ones_are_applied(db):
    recorded = MigrationRecorder(connection).migration_qs.filter(app="djstripe", name="0001_squashed_2_11")
    recorded.delete()

    report = migrator.workspaces_migrate(schemas=[], public=True)

    assert report.public_migrations == 0
    assert recorded.exists()


def test_a_partially_applied_history_whose_replaced_migrations_are_not_loaded_is_refused(db):
    """An interrupted first migrate with dj-stripe's own history: its remaining migrations are not loaded
    (billing/djstripe_migrations replaces them), so going on would silently never apply them."""
    MigrationRecorder(connection).migration_qs.filter(
        app="djstripe", name__in=["0003_2_11", "0001_squashed_2_11"]
    ).delete()

    with pytest.raises(CommandError, match="0002_2_10 applied but not 0003_2_11"):
        call_command("migrate_workspaces", verbosity=0)
