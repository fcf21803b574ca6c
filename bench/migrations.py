"""Deploying a migration at 1,000 and 10,000 workspaces: `manage.py migrate_workspaces` timed.

    python bench/migrations.py [--counts 1000 10000] [--workers 4] [--reuse] [--baseline]

Runs against its own database, `portal_bench_migrations`, on the server of DATABASE_URL (or the
embedded one), with the real settings and migrations (the first run spends about half a minute
migrating the public schema and the template). Workspace schemas are made by cloning the
template (tenants/schemas/clone.py), untimed; --reuse keeps them for the next run. For each count it times the
whole command, public schema included:

- nothing to apply: every schema is already up to date;
- one new migration: a migration added to `accounts` (a nullable column and an index on the user
  table, the issue's example), loaded from a temporary copy of the app's migrations through
  MIGRATION_MODULES; afterwards it is undone in every schema (untimed) so the next case starts clean.

--baseline also times django-tenants' own `migrate_schemas --tenant` with nothing to apply (372 s at
1,072 schemas on this machine kind; see docs/performance.md), which is slow on purpose of the comparison.
"""

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import bench_database  # noqa: E402

BENCH_DB = "portal_bench_migrations"
PREFIX = "bench_"
NEW_MIGRATION = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "{previous}")]
    operations = [
        migrations.AddField("user", "bench_nickname", models.CharField(max_length=50, null=True, blank=True)),
        migrations.AddIndex("user", models.Index(fields=["bench_nickname"], name="accounts_user_bench_nick")),
    ]
"""
NEW_NAME = "9001_bench_nickname"


def workspaces_ensure(count: int) -> None:
    """At least `count` workspace schemas (cloned from the template, with a Tenant row each), made by two
    processes at once (one per core)."""
    from django.db import connections

    from tenants.models import Tenant

    existing = Tenant.objects.filter(schema_name__startswith=PREFIX).count()
    if existing >= count:
        return
    print(f"  cloning {count - existing:,} workspace schemas...", flush=True)
    started = time.perf_counter()
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for done, _ in enumerate(pool.imap_unordered(clone_one, range(existing, count), chunksize=50), 1):
            if done % 1000 == 0:
                print(f"    {existing + done:,} ({done / (time.perf_counter() - started):.0f}/s)", flush=True)


def clone_one(n: int) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    from tenants.models import Tenant
    from tenants.schemas.clone import schema_clone

    name = f"{PREFIX}{n:05d}"
    with transaction.atomic():
        connection.set_schema_to_public()
        Tenant.objects.create(schema_name=name, subdomain=name.replace("_", "-"), business_name=name)
        schema_clone(source=settings.TENANT_BASE_SCHEMA, target=name)


def timed_migrate(workers: int) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate_workspaces", workers=workers, verbosity=0)
    return time.perf_counter() - started


def new_migration_modules() -> tuple[str, Path]:
    """A copy of accounts' migrations plus the bench migration, importable as a package."""
    folder = Path(tempfile.mkdtemp(prefix="bench-migrations-"))
    package = folder / "bench_accounts_migrations"
    shutil.copytree(ROOT / "accounts" / "migrations", package, ignore=shutil.ignore_patterns("__pycache__"))
    previous = max(path.stem for path in package.glob("0*.py"))
    (package / f"{NEW_NAME}.py").write_text(NEW_MIGRATION.format(previous=previous))
    sys.path.insert(0, str(folder))
    return "bench_accounts_migrations", folder


def new_migration_undo() -> None:
    from django.db import connection

    from tenants.models import Tenant

    connection.set_schema_to_public()
    schemas = list(Tenant.objects.values_list("schema_name", flat=True))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                f"ALTER TABLE IF EXISTS {quote(schema)}.accounts_user DROP COLUMN IF EXISTS bench_nickname;"
                f" DELETE FROM {quote(schema)}.django_migrations WHERE app = 'accounts' AND name = %s",
                [NEW_NAME],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's database and schemas")
    parser.add_argument("--baseline", action="store_true", help="also time django-tenants' migrate_schemas")
    args = parser.parse_args()
    bench_database(name=BENCH_DB, reset=not args.reuse)

    from django.conf import settings
    from django.core.management import call_command

    rows = []
    for count in sorted(args.counts):
        workspaces_ensure(count)
        new_migration_undo()
        timed_migrate(args.workers)  # settle anything a previous interrupted run left behind
        nothing = timed_migrate(args.workers)
        print(f"  {count:,} workspaces, nothing to apply: {nothing:.1f} s", flush=True)

        module, folder = new_migration_modules()
        original = dict(settings.MIGRATION_MODULES)
        settings.MIGRATION_MODULES = {**original, "accounts": module}
        try:
            one = timed_migrate(args.workers)
        finally:
            settings.MIGRATION_MODULES = original
            shutil.rmtree(folder)
            new_migration_undo()
        print(f"  {count:,} workspaces, one new migration: {one:.1f} s", flush=True)

        baseline = None
        if args.baseline:
            t0 = time.perf_counter()
            call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
            baseline = time.perf_counter() - t0
        rows.append((count, nothing, one, baseline))

    schemas = count_schemas()
    print()
    print(f"migrate_workspaces, {args.workers} workers, {schemas:,} tenant schemas at the end (template and spares)")
    print()
    print(
        "| workspaces | nothing to apply | one new migration (column + index) | per schema | migrate_schemas, nothing |"
    )
    print("|---:|---:|---:|---:|---:|")
    for count, nothing, one, baseline in rows:
        base = f"{baseline:.0f} s" if baseline is not None else "-"
        print(f"| {count:,} | {nothing:.1f} s | {one:.1f} s | {one / count * 1000:.1f} ms | {base} |")


def count_schemas() -> int:
    from tenants.models import Tenant

    return Tenant.objects.exclude(kind=Tenant.Kind.PUBLIC).count()


if __name__ == "__main__":
    main()
