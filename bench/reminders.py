"""The trial-reminder sweep at 1,000 and 10,000 trialing workspaces.

    python bench/reminders.py [--counts 1000 10000] [--samples 20] [--reuse]

Runs against its own database, `portal_bench_reminders`, on the server of DATABASE_URL (or the embedded
one), with the real settings: the public schema is migrated once (about a minute with dj-stripe; --reuse
keeps it). The sweep reads only the public schema, so the workspaces are Tenant rows without schemas:
trials ending evenly over the next 14 days, one in ten paying (a Stripe subscription), as a live portal
would have them. For each count it measures:

- selection (cold): `reminders_due()` when no reminder was ever sent (the first sweep after a deploy,
  when about half the workspaces are due one);
- first sweep: `reminders_send()` claiming and queueing all of those (a Notice and an email job each);
- selection (hourly): `reminders_due()` an hour later, when every earlier reminder is recorded and only
  the workspaces that crossed a 7/3/1-day mark in that hour are due;
- hourly sweep: `reminders_send()` at that moment, claims and queueing included.
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import bench_settings  # noqa: E402

BENCH_DB = "portal_bench_reminders"


def timed(function, samples: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(samples):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's migrated database")
    args = parser.parse_args()
    bench_settings(name=BENCH_DB, reset=not args.reuse)

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from billing.models import BillingAccount
    from billing.reminders import reminders_due, reminders_send
    from notifications.models import EmailLog, Notice
    from tenants.models import Tenant

    started = time.perf_counter()
    print("Migrating the public schema (about 15 s the first time)...", flush=True)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)

    rows = []
    for count in args.counts:
        connection.set_schema_to_public()
        Notice.objects.all().delete()
        EmailLog.objects.all().delete()
        BillingAccount.objects.all().delete()
        Tenant.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE procrastinate_jobs CASCADE")
        now = timezone.now()
        tenants = Tenant.objects.bulk_create(
            Tenant(
                schema_name=f"bench_{n}",
                kind=Tenant.Kind.WORKSPACE,
                subdomain=f"bench-{n}",
                business_name=f"Bench {n}",
                owner_email=f"owner@bench-{n}.test",
                status=Tenant.Status.TRIALING,
                trial_ends_at=now + timedelta(seconds=14 * 86400 * (n + 0.5) / count),
                created_at=now,
            )
            for n in range(count)
        )
        BillingAccount.objects.bulk_create(
            BillingAccount(tenant=tenant, stripe_customer_id=f"cus_{n}", subscription_status="active")
            for n, tenant in enumerate(tenants)
            if n % 10 == 0
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        cold_ms, cold_due = timed(lambda at=now: reminders_due(now=at), args.samples)
        first_started = time.perf_counter()
        first = reminders_send(now=now)
        first_ms = (time.perf_counter() - first_started) * 1000
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        later = now + timedelta(hours=1)
        hourly_ms, hourly_due = timed(lambda at=later: reminders_due(now=at), args.samples)
        sweep_started = time.perf_counter()
        hourly = reminders_send(now=later)
        sweep_ms = (time.perf_counter() - sweep_started) * 1000
        assert reminders_send(now=later) == [], "a second sweep at the same moment must send nothing"
        rows.append(
            (count, cold_ms, len(cold_due), first_ms, len(first), hourly_ms, len(hourly_due), sweep_ms, len(hourly))
        )
        print(f"  measured at {count:,} trialing workspaces", flush=True)

    print()
    print("| trialing workspaces | selection, cold | first sweep | selection, hourly | hourly sweep |")
    print("|---:|---:|---:|---:|---:|")
    for count, cold_ms, cold_n, first_ms, first_n, hourly_ms, hourly_n, sweep_ms, sweep_n in rows:
        print(
            f"| {count:,} | {cold_ms:.1f} ms ({cold_n:,} due) | {first_ms / 1000:.1f} s ({first_n:,} queued) "
            f"| {hourly_ms:.1f} ms ({hourly_n:,} due) | {sweep_ms:.0f} ms ({sweep_n:,} queued) |"
        )
    print(
        f"\nSelection: median of {args.samples} runs; sweeps: one run each. Total {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
