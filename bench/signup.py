"""Signup speed at 10, 100 and 1,000 existing workspaces.

    python bench/signup.py [--counts 10 100 1000] [--samples 40] [--reuse]

Runs against its own database, `portal_bench`, on the server of DATABASE_URL (or the embedded one),
with the real settings and migrations. It starts from an empty database (about half a minute of
migrations) and creates the workspaces it needs; --reuse keeps the previous run's
database, which is only faster when no migration was added since (otherwise every one of its
schemas is migrated first). Then, for each count, it measures:

- provisioning: `workspace_signup()` from validated data to a committed workspace with its owner,
  legal records and audit event, password already hashed, a spare waiting in the pool (the pool is
  topped up between samples, untimed, as the background refill would);
- provisioning with an empty pool: the fallback that clones the template inside the request;
- the whole signup POST through Django's test client: form validation, Argon2 hashing, provisioning,
  the redirect with its hand-off token.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["SIGNUP_RATE_PER_IP"] = "1000000/h"  # the bench posts many signups from one address
os.environ["SIGNUP_RATE_GLOBAL"] = "1000000/h"

from benchdb import bench_database  # noqa: E402

BENCH_DB = "portal_bench"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# One script read top to bottom: its steps are closures over the Django imports made once the bench database
# exists (bench_database() must run first), so they stay inside main.
def main() -> None:  # noqa: C901
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's database and workspaces")
    args = parser.parse_args()
    started = time.perf_counter()
    bench_database(name=BENCH_DB, reset=not args.reuse)

    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.test import Client

    from accounts import signup
    from tenants.models import Tenant
    from tenants.schemas import pool

    password_hash = make_password("correct horse battery staple")
    serial = iter(range(10**9))

    def next_subdomain(prefix: str) -> str:
        while True:
            name = f"{prefix}-{os.getpid()}-{next(serial)}"
            if not Tenant.objects.filter(subdomain=name).exists():
                return name

    def provision(prefix: str) -> float:
        subdomain = next_subdomain(prefix)
        t0 = time.perf_counter()
        signup.workspace_signup(
            business_name=f"Bench {subdomain}",
            subdomain=subdomain,
            owner_email=f"owner@{subdomain}.test",
            owner_name="Bench Owner",
            owner_password_hash=password_hash,
            ip_address="127.0.0.1",
        )
        elapsed = time.perf_counter() - t0
        connection.set_schema_to_public()
        return elapsed * 1000

    def grow_to(count: int) -> None:
        have = Tenant.objects.workspaces().count()
        if have >= count:
            return
        print(f"  creating {count - have} workspaces to reach {count}...", flush=True)
        t0 = time.perf_counter()
        for _ in range(count - have):
            pool.pool_fill(size=1)
            provision("fill")
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)

    client = Client(HTTP_HOST=os.environ.get("BENCH_HOST", "localhost"))

    def signup_post() -> float:
        subdomain = next_subdomain("post")
        data = {
            "business_name": "Bench Post",
            "subdomain": subdomain,
            "full_name": "Bench Owner",
            "email": f"owner@{subdomain}.test",
            "password": "correct horse battery staple",
            "accept_terms": "on",
        }
        t0 = time.perf_counter()
        response = client.post("/signup/", data)
        elapsed = time.perf_counter() - t0
        connection.set_schema_to_public()
        assert response.status_code == 302, response.content[:300]
        return elapsed * 1000

    rows = []
    for count in args.counts:
        grow_to(count)
        existing = Tenant.objects.workspaces().count()
        warm, cold, posts = [], [], []
        for _ in range(args.samples):
            pool.pool_fill(size=2)
            warm.append(provision("warm"))
        for _ in range(max(5, args.samples // 8)):
            for spare in Tenant.objects.spares():
                spare.delete(force_drop=True)
            cold.append(provision("cold"))
        for _ in range(max(10, args.samples // 2)):
            pool.pool_fill(size=2)
            posts.append(signup_post())
        rows.append((existing, warm, cold, posts))
        print(f"  measured at {existing} workspaces", flush=True)

    pool.pool_fill()
    print()
    print("| workspaces | provisioning p50 | provisioning p95 | empty pool p50 | signup POST p50 | signup POST p95 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for existing, warm, cold, posts in rows:
        print(
            f"| {existing:,} | {statistics.median(warm):.1f} ms | {percentile(warm, 95):.1f} ms "
            f"| {statistics.median(cold):.0f} ms | {statistics.median(posts):.0f} ms | {percentile(posts, 95):.0f} ms |"
        )
    print(f"\n{args.samples} provisioning samples per row; total run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
