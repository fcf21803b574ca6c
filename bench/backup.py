"""Backup and restore of one workspace at 10 and 1,000 workspaces, and of the whole database.

    python bench/backup.py [--counts 10 1000] [--samples 3] [--reuse]

Its own database, `portal_bench_backup`, on the server of DATABASE_URL (or the embedded one), with the
real settings and migrations (the first run migrates for about half a minute). One real
workspace (an owner and 20 members) is measured; the others are clones of the template (made untimed,
like bench/migrations.py). Backups go to a temporary directory. For each count it times:

- `workspace_backup`: each table of the workspace's schema (COPY) and its public rows, in one tar with
  checksums;
- `workspace_restore` in place: template tables and the backup's rows under a scratch schema, swap by
  renaming, public rows replaced, in one transaction;
- `workspace_restore --as`: the same alongside, as a new workspace;
- `database_backup`: pg_dump of the whole database (custom format).

The issue's bar: one workspace's backup and restore must not grow with the number of other workspaces.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import bench_database  # noqa: E402

BENCH_DB = "portal_bench_backup"
MEASURED = "measured"


def measured_workspace():
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts import signup
    from accounts.models import User
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(subdomain=MEASURED).first()
    if tenant is None:
        password = make_password("correct horse battery staple")
        tenant = signup.workspace_create(
            business_name="Measured",
            subdomain=MEASURED,
            owner_email=f"owner@{MEASURED}.test",
            owner_name="Owner",
            owner_password_hash=password,
        )
        with schema_context(tenant.schema_name):
            User.objects.bulk_create(
                User(email=f"member{n}@{MEASURED}.test", full_name=f"Member {n}", password=password) for n in range(20)
            )
        connection.set_schema_to_public()
    return tenant


def timed(function, samples: int) -> tuple[float, object]:
    durations, result = [], None
    for _ in range(samples):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


def measure(count: int, samples: int) -> tuple:
    from django.db import connection

    from bench.migrations import count_schemas
    from console import backups
    from tenants.models import Tenant

    tenant = measured_workspace()
    backup_s, backup = timed(lambda: backups.workspace_backup(tenant=tenant), samples)
    restore_s, _ = timed(lambda: backups.workspace_restore(backup=backup.name), samples)
    copies = iter(range(10**6))
    as_s, _ = timed(
        lambda: backups.workspace_restore(backup=backup.name, as_subdomain=f"copy-{count}-{next(copies)}"), samples
    )
    for copy in Tenant.objects.filter(subdomain__startswith=f"copy-{count}-"):
        copy.delete(force_drop=True)
    connection.set_schema_to_public()
    try:
        database_s, database_size = timed(lambda: backups.database_backup().size, 1)
    except backups.BackupError as error:  # the server's lock table is too small (the error says what to set)
        print(f"  whole-database backup at {count:,}: {error}", flush=True)
        database_s, database_size = None, None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    schemas = count_schemas()
    return count, schemas, backup_s, backup.size, restore_s, as_s, database_s, database_size, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's database and schemas")
    args = parser.parse_args()
    bench_database(name=BENCH_DB, reset=not args.reuse)

    from django.conf import settings

    from bench.migrations import workspaces_ensure

    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tempfile.mkdtemp(prefix="bench-backups-")},
        },
    }
    from django.core.files.storage import storages

    storages._storages.pop("backups", None)

    rows = []
    for count in sorted(args.counts):
        workspaces_ensure(count)
        rows.append(measure(count, args.samples))
        print(f"  {count:,} workspaces done", flush=True)

    print()
    print(
        "| workspaces | schemas | workspace backup | archive | restore in place | restore --as "
        "| whole database backup | dump | database size |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count, schemas, backup_s, archive, restore_s, as_s, database_s, dump, size in rows:
        print(
            f"| {count:,} | {schemas:,} | {backup_s:.2f} s | {archive / 1024:.0f} KB | {restore_s:.2f} s "
            f"| {as_s:.2f} s | {f'{database_s:.1f} s' if database_s is not None else 'refused'} "
            f"| {f'{dump / 1024 / 1024:.1f} MB' if dump is not None else '-'} | {size} |"
        )
    print(f"\nmedian of {args.samples} runs per workspace figure; one whole-database backup per row")


if __name__ == "__main__":
    main()
