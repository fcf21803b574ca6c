"""The operators' dashboard (the admin index) at 1,000 and 10,000 workspaces.

    python bench/dashboard.py [--counts 1000 10000] [--samples 20] [--reuse] [--database NAME]

Its own database, `portal_bench_dashboard`, on the server of DATABASE_URL, with the real settings. The
workspaces are real schemas cloned from the template (like bench/migrations.py: the catalog, and so
`pg_database_size`, is as large as in production), and the business rows are spread over them: signups
over 90 days, every status, plans, a Stripe subscription for paying workspaces, open invoices for past-due
ones, 5 audit events, 10 emails and 2 Stripe events per workspace, job failures.

An operator logged in with 2FA asks for /admin/ through Django's test client (every middleware, the
template rendered): the first request after a count is reached is the cold figure, then the median and
the worst of `--samples` warm ones, and the SQL statements of one request. The database's size is
measured first, as the worker does every ten minutes (`core.measure_database_size`): its time is the
last column, not part of the page's.

The issue's bar: it renders in <= 300 ms with 10,000 workspaces, and its number of queries does not grow
with the number of workspaces.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import bench_database  # noqa: E402

BENCH_DB = "portal_bench_dashboard"
OPERATOR, PASSWORD = "bench-operator@example.com", "correct horse battery staple"

BUSINESS_ROWS = """
WITH w AS (
  SELECT id, row_number() OVER (ORDER BY id) AS n FROM tenants_tenant WHERE schema_name LIKE 'bench\\_%%'
)
UPDATE tenants_tenant t SET
  created_at = now() - ((w.n * 7919 %% 90) || ' days')::interval - ((w.n %% 24) || ' hours')::interval,
  status = (ARRAY['trialing', 'active', 'active', 'active', 'past_due', 'suspended', 'cancelled'])[1 + w.n %% 7],
  plan = (ARRAY['starter', 'growth', 'scale'])[1 + w.n %% 3],
  owner_email = 'owner' || w.n || '@bench.test',
  owner_name = 'Owner ' || w.n
FROM w WHERE t.id = w.id
"""

TRIALS = """
UPDATE tenants_tenant SET trial_ends_at = created_at + interval '14 days'
 WHERE schema_name LIKE 'bench\\_%%'
"""

ACCOUNTS = """
INSERT INTO billing_billingaccount (tenant_id, stripe_customer_id, stripe_subscription_id, subscription_status,
                                    interval, cancel_at_period_end, comped, payment_failed_at)
SELECT id, 'cus_bench' || id, 'sub_bench' || id, CASE status WHEN 'cancelled' THEN 'canceled' ELSE status END,
       CASE WHEN id %% 4 = 0 THEN 'year' ELSE 'month' END, false, false,
       CASE status WHEN 'past_due' THEN now() - (id %% 10 || ' days')::interval END
  FROM tenants_tenant
 WHERE schema_name LIKE 'bench\\_%%' AND status IN ('active', 'past_due', 'cancelled')
   AND NOT EXISTS (SELECT 1 FROM billing_billingaccount b WHERE b.tenant_id = tenants_tenant.id)
"""

INVOICES = """
INSERT INTO billing_invoice (tenant_id, stripe_id, subscription_id, number, status, amount_due, amount_paid,
                             currency, created, attempt_count, first_failed_at, hosted_invoice_url)
SELECT id, 'in_bench' || id || '_' || k, 'sub_bench' || id, 'B-' || id || '-' || k,
       CASE WHEN status = 'past_due' AND k = 3 THEN 'open' ELSE 'paid' END, 4900,
       CASE WHEN status = 'past_due' AND k = 3 THEN 0 ELSE 4900 END, 'usd',
       now() - ((3 - k) * 30 || ' days')::interval, 1, NULL, ''
  FROM tenants_tenant, generate_series(1, 3) AS k
 WHERE schema_name LIKE 'bench\\_%%' AND status IN ('active', 'past_due')
ON CONFLICT (stripe_id) DO NOTHING
"""

AUDIT = """
INSERT INTO tenants_auditevent (tenant_id, tenant_label, actor, actor_kind, action, details, created_at)
SELECT id, subdomain, 'system', 'system',
       (ARRAY['tenant.provisioned', 'member.invited', 'member.joined', 'billing.plan_changed',
              CASE status WHEN 'cancelled' THEN 'tenant.closed' ELSE 'member.role_changed' END])[k],
       '{}', created_at + (k || ' days')::interval
  FROM tenants_tenant, generate_series(1, 5) AS k
 WHERE schema_name LIKE 'bench\\_%%'
   AND NOT EXISTS (SELECT 1 FROM tenants_auditevent a WHERE a.tenant_id = tenants_tenant.id)
"""

EMAILS = """
INSERT INTO notifications_emaillog (tenant_id, tenant_label, kind, "to", params, essential, subject, status,
                                    created_at, updated_at, sent_at, provider_message_id, last_error, attempts)
SELECT id, subdomain, 'welcome', 'owner@bench.test', '{}', false, 'Hello',
       CASE WHEN k = 10 AND id %% 50 = 0 THEN 'failed' ELSE 'sent' END,
       now() - ((k * 37 + id) %% 720 || ' hours')::interval, now(),
       now() - ((k * 37 + id) %% 720 || ' hours')::interval, '', '', 1
  FROM tenants_tenant, generate_series(1, 10) AS k
 WHERE schema_name LIKE 'bench\\_%%'
   AND NOT EXISTS (SELECT 1 FROM notifications_emaillog e WHERE e.tenant_id = tenants_tenant.id)
"""

STRIPE_EVENTS = """
INSERT INTO billing_billingevent (stripe_id, type, created, received_at, tenant_id, result)
SELECT 'evt_bench' || id || '_' || k, 'invoice.paid', now() - (k || ' days')::interval,
       now() - (k || ' days')::interval, id, 'applied'
  FROM tenants_tenant, generate_series(1, 2) AS k
 WHERE schema_name LIKE 'bench\\_%%'
ON CONFLICT (stripe_id) DO NOTHING
"""


def business_rows() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in (BUSINESS_ROWS, TRIALS, ACCOUNTS, INVOICES, AUDIT, EMAILS, STRIPE_EVENTS):
            cursor.execute(statement, [])  # [] makes %% a literal %
        cursor.execute("DELETE FROM core_jobfailure")
        cursor.execute(
            "INSERT INTO core_jobfailure (job_id, task_name, attempt, error, traceback, failed_at)"
            " SELECT n, 'notifications.send_email', 3, 'SMTP timeout', '', now() - (n || ' hours')::interval"
            " FROM generate_series(1, 30) AS n"
        )
        cursor.execute("ANALYZE")


def operator_client():
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from tests.support.operators import operator_create, operator_login

    User.objects.filter(email=OPERATOR).delete()
    _, device = operator_create(OPERATOR, PASSWORD, full_name="Bench Operator")
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    response = operator_login(client, OPERATOR, PASSWORD, device)
    assert response.status_code == 302, response.content[:500]
    return client


def measure(samples: int) -> tuple:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import metrics
    from tenants.models import Tenant

    client = operator_client()
    started = time.perf_counter()
    metrics.database_size_measure()  # what the worker does every ten minutes (core.measure_database_size)
    size_ms = (time.perf_counter() - started) * 1000

    def render() -> float:
        started = time.perf_counter()
        response = client.get("/admin/")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and b"Server errors, 24 h" in response.content, response.status_code
        return elapsed * 1000

    cold = render()
    warm = [render() for _ in range(samples)]
    with CaptureQueriesContext(connection) as queries:
        render()
    slowest = max(queries.captured_queries, key=lambda query: float(query["time"]))
    workspaces = Tenant.objects.workspaces().count()
    return workspaces, cold, statistics.median(warm), max(warm), len(queries), slowest, size_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's database and schemas")
    parser.add_argument("--database", default=BENCH_DB, help="its own database (a count is at least that many)")
    args = parser.parse_args()
    bench_database(name=args.database, reset=not args.reuse)

    from bench.migrations import workspaces_ensure

    rows = []
    for count in sorted(args.counts):
        workspaces_ensure(count)
        business_rows()
        rows.append(measure(args.samples))
        print(f"  {count:,} workspaces done", flush=True)

    print()
    print("| workspaces | cold | warm median | warm worst | SQL statements | slowest statement | size (worker) |")
    print("|---:|---:|---:|---:|---:|---|---:|")
    for workspaces, cold, median, worst, statements, slowest, size_ms in rows:
        sql = " ".join(slowest["sql"].split())[:60]
        print(
            f"| {workspaces:,} | {cold:.0f} ms | {median:.0f} ms | {worst:.0f} ms | {statements} "
            f"| {float(slowest['time']) * 1000:.0f} ms `{sql}...` | {size_ms:.0f} ms |"
        )
    print(f"\nwarm: {args.samples} requests per row; one operator with 2FA through Django's test client")


if __name__ == "__main__":
    main()
