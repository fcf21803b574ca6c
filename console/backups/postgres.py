"""PostgreSQL's side of a backup: pg_dump and pg_restore of the server's version, the connection they use, a
repeatable-read snapshot, the schema's applied migrations and the lock table's size."""

import hashlib
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Collection
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, transaction

from console.backups.storage import BackupError
from tenants.schemas import clone

logger = logging.getLogger(__name__)


def app_version() -> str:
    try:
        return package_version("portal")
    except PackageNotFoundError:
        return "unknown"


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
        import pgserver  # the embedded development server (core/embedded_db.py) ships its own

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


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    args, env = _connection_args()
    result = subprocess.run([*command, *args], env=env, capture_output=True, **kwargs)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace") if isinstance(result.stderr, bytes) else result.stderr
        raise BackupError(f"{Path(command[0]).name} failed: {stderr.strip()[-2000:]}")
    return result


def workspace_app_labels() -> list[str]:
    """The apps with tables in a workspace's schema (TENANT_APPS): only their migrations shape what a dump holds.
    A shared app's migration is recorded in every schema too but changes nothing there."""
    return sorted(config.label for config in django_apps.get_app_configs() if config.name in settings.TENANT_APPS)


def migrations_digest(
    schema: str, *, app_labels: Collection[str] | None = None, leaving_out: Collection[tuple[str, str]] = ()
) -> str:
    """Which migrations a schema has (of `app_labels` only, when given; without the `leaving_out` ones): a
    restore only takes a dump made at the same migration state."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quote(schema)}.django_migrations ORDER BY app, name")
        rows = [
            (app, name)
            for app, name in cursor.fetchall()
            if (app_labels is None or app in app_labels) and (app, name) not in leaving_out
        ]
    return hashlib.sha256("\n".join(f"{app}.{name}" for app, name in rows).encode()).hexdigest()


@contextmanager
def repeatable_read():
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
# namespace (an index), not by scanning pg_class (tenants/schemas/clone.py says why).
SCHEMA_TABLES = f"""
SELECT c.relname,
       array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped
                                                        AND a.attgenerated = ''),
       min(a.attname::text) FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> '')
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.oid IN ({clone.TABLE_OIDS.replace("%(ns)s", "%(schema)s::regnamespace")})
 GROUP BY c.relname ORDER BY c.relname
"""


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
