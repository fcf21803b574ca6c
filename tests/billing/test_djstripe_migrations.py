"""billing/djstripe_migrations/0001_squashed_2_11.py replaces dj-stripe's upstream history: a database
that applied upstream's migrations and a fresh one built with ours end with the same dj-stripe tables. And the
template schema, where tenants/schemas/pool.py records dj-stripe's migration instead of replaying it, is the same as
a schema migrated the ordinary way.

The databases are scratch ones of this test's own on the test server, migrated by `manage.py` in
subprocesses; replaying upstream's history takes about two minutes, so that test runs only by
`make test-migrations` (marker `migrations`).
"""

import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import djstripe.migrations
import psycopg
import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]
SQUASH = ("djstripe", "0001_squashed_2_11")
UPSTREAM = {("djstripe", "0001_initial"), ("djstripe", "0002_2_10"), ("djstripe", "0003_2_11")}
UPSTREAM_SETTINGS = "tests.support.settings_djstripe_upstream"

CATALOG = {
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, character_maximum_length, numeric_precision,
               numeric_scale, is_nullable, column_default, is_identity, identity_generation
        FROM information_schema.columns
        WHERE table_schema = %(schema)s AND table_name LIKE %(tables)s""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = %(schema)s AND tablename LIKE %(tables)s""",
    "constraints": """
        SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid), c.condeferrable, c.condeferred
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %(schema)s AND t.relname LIKE %(tables)s""",
}


def test_the_replacing_migration_covers_every_upstream_migration():
    """After a dj-stripe upgrade, a new upstream migration must be copied into billing/djstripe_migrations
    (see the header of 0001_squashed_2_11.py): MIGRATION_MODULES hides upstream's package from Django."""
    upstream = {name for _, name, _ in pkgutil.iter_modules(djstripe.migrations.__path__)}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    squash = loader.disk_migrations[SQUASH]
    ours = {name for app, name in loader.disk_migrations if app == "djstripe"}
    assert {name for _, name in squash.replaces} == {name for _, name in UPSTREAM}
    assert upstream <= {name for _, name in squash.replaces} | ours
    # Upstream's names are gone from the graph, and everything that pointed at them points at the squash.
    assert not UPSTREAM & set(loader.graph.nodes)
    assert loader.graph.leaf_nodes("djstripe") == [SQUASH]


@pytest.mark.migrations
def test_upstream_history_and_the_replacing_migration_give_the_same_tables():
    upstream, fresh = scratch_databases("upstream", "fresh")
    try:
        manage(upstream, "migrate_schemas", "--shared", settings_module=UPSTREAM_SETTINGS)
        history = djstripe_history(upstream)
        assert UPSTREAM <= history and SQUASH not in history

        # With ours: nothing to apply (--check fails otherwise), and the release step records the squash.
        manage(upstream, "migrate_schemas", "--shared", "--check")
        manage(upstream, "bootstrap")
        assert djstripe_history(upstream) == history | {SQUASH}

        manage(fresh, "bootstrap")
        assert djstripe_history(fresh) == history | {SQUASH}
        assert djstripe_history(fresh, schema="tenant_template") == history | {SQUASH}

        expected = catalog(fresh)
        assert len({row[0] for row in expected["columns"]}) > 50  # dj-stripe's tables are there
        assert catalog(upstream) == expected

        # The template (dj-stripe recorded, not replayed: tenants/schemas/pool.py) is what migrating every app gives.
        with server(fresh) as conn:
            conn.execute("CREATE SCHEMA reference")
        manage(fresh, "migrate_schemas", "--tenant", "--schema", "reference")
        assert tenant_schema(fresh, "tenant_template") == tenant_schema(fresh, "reference")
    finally:
        scratch_databases_drop(upstream, fresh)


def server(database: str = "postgres") -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**{**params, "dbname": database}, autocommit=True)


def scratch_databases(*suffixes: str) -> list[str]:
    """Empty databases named after the test database (other runs on the same server use other names)."""
    base = connection.settings_dict["NAME"].removeprefix("test_")
    names = [f"test_{base}_djstripe_{suffix}" for suffix in suffixes]
    scratch_databases_drop(*names)
    with server() as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    return names


def scratch_databases_drop(*names: str) -> None:
    with server() as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(name: str) -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    if db["HOST"].startswith("/"):  # the embedded server's socket directory
        return f"postgres://{credentials}@/{name}?host={quote(db['HOST'])}"
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def manage(database: str, *args: str, settings_module: str = "config.settings.test") -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        APP_ENV="test",
        DATABASE_URL=database_url(database),
        DJANGO_SETTINGS_MODULE=settings_module,
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"manage.py {' '.join(args)} ({settings_module}):\n{result.stdout}{result.stderr}"


def djstripe_history(database: str, schema: str = "public") -> set[tuple[str, str]]:
    with server(database) as conn:
        rows = conn.execute(f"SELECT app, name FROM \"{schema}\".django_migrations WHERE app = 'djstripe'")
        return set(rows.fetchall())


def catalog(database: str, schema: str = "public", tables: str = "djstripe\\_%") -> dict[str, set[tuple]]:
    """Tables as PostgreSQL describes them: columns, indexes, constraints (names included, the schema's left out)."""
    with server(database) as conn:
        return {
            kind: {
                tuple(value.replace(f"{schema}.", "") if isinstance(value, str) else value for value in row)
                for row in conn.execute(sql, {"schema": schema, "tables": tables}).fetchall()
            }
            for kind, sql in CATALOG.items()
        }


def tenant_schema(database: str, schema: str) -> dict[str, set[tuple]]:
    """A workspace schema: every table, its migration history, content types and permissions."""
    with server(database) as conn:
        rows = {
            "history": f"SELECT app, name FROM {schema}.django_migrations",
            "content_types": f"SELECT app_label, model FROM {schema}.django_content_type",
            "permissions": f"SELECT t.app_label, p.codename, p.name FROM {schema}.auth_permission p"
            f" JOIN {schema}.django_content_type t ON t.id = p.content_type_id",
        }
        contents = {kind: set(conn.execute(sql).fetchall()) for kind, sql in rows.items()}
    return {**catalog(database, schema=schema, tables="%"), **contents}
