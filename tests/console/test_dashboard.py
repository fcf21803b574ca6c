"""The operators' dashboard on the admin index: its figures for a small world, the lists they link to,
a query count that does not grow with the number of workspaces, and operators only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import BillingAccount, Invoice
from core.models import JobFailure
from notifications.models import EmailLog
from tenants import services
from tenants.models import Tenant
from tests.support.queue import jobs_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_still")]  # days and hours must not turn mid-test


def _age(tenant: Tenant, days: int) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(created_at=timezone.now() - timedelta(days=days))


def _subscribe(tenant: Tenant, *, status: str, interval: str) -> None:
    BillingAccount.objects.update_or_create(
        tenant=tenant,
        defaults={"stripe_customer_id": f"cus_{tenant.subdomain}", "subscription_status": status, "interval": interval},
    )


@pytest.fixture
def world(make_workspace):
    """alpha: active Growth, monthly, 40 days old. bravo: past due Starter, yearly, 20 days old, an open invoice.
    charlie: trialing, signed up today, trial ends in 3 days. delta: closed today, 60 days old."""
    now = timezone.now()
    alpha = make_workspace("alpha", business_name="Alpha Ltd")
    bravo = make_workspace("bravo", business_name="Bravo Inc")
    charlie = make_workspace("charlie", business_name="Charlie Co")
    delta = make_workspace("delta", business_name="Delta Corp")
    Tenant.objects.filter(pk=alpha.pk).update(status="active", plan="growth")
    Tenant.objects.filter(pk=bravo.pk).update(status="past_due", plan="starter")
    Tenant.objects.filter(pk=charlie.pk).update(trial_ends_at=now + timedelta(days=3))
    services.tenant_close(tenant=delta, actor="owner@delta.test")
    _age(alpha, 40)
    _age(bravo, 20)
    _age(delta, 60)
    _subscribe(alpha, status="active", interval="month")
    _subscribe(bravo, status="past_due", interval="year")
    Invoice.objects.create(
        tenant=bravo, stripe_id="in_open", status="open", amount_due=19000, currency="usd", created=now
    )
    Invoice.objects.create(
        tenant=bravo,
        stripe_id="in_paid",
        status="paid",
        amount_due=19000,
        amount_paid=19000,
        currency="usd",
        created=now,
    )
    JobFailure.objects.create(job_id=1, task_name="billing.sync", attempt=1, error="boom")
    JobFailure.objects.create(
        job_id=2, task_name="billing.sync", attempt=1, error="old", failed_at=now - timedelta(days=2)
    )
    EmailLog.objects.create(kind="trial_ending", to="owner@alpha.test", status="failed", last_error="refused")
    connection.set_schema_to_public()
    return {"alpha": alpha, "bravo": bravo, "charlie": charlie, "delta": delta}


def _dashboard(client) -> dict:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.context["dashboard"]


def _listed(client, url: str, field: str = "subdomain") -> set:
    response = client.get(url)
    assert response.status_code == 200, url
    return {getattr(row, field) for row in response.context["cl"].result_list}


def test_business_figures(operator_client, world):
    business = _dashboard(operator_client)["business"]
    by_status = {row["label"]: row["count"] for row in business["by_status"]}
    assert by_status == {"Trialing": 1, "Active": 1, "Past due": 1, "Suspended": 0, "Cancelled": 1}
    by_plan = {row["label"]: row["count"] for row in business["by_plan"]}
    assert by_plan == {"Starter": 3, "Growth": 1, "Scale": 0}
    # charlie today; alpha, bravo and delta were provisioned today too, then aged: only charlie in 30 days
    # besides bravo (20 days ago).
    signups = business["signups"]["days"]
    assert len(signups) == 30 and signups[-1]["day"] == timezone.localdate()
    assert signups[-1]["count"] == 1 and sum(day["count"] for day in signups) == 2
    conversion = business["conversion"]
    assert (conversion["paid"], conversion["cohort"], conversion["percent"]) == (2, 3, 66.7)
    # Growth monthly 49 + Starter yearly 190 / 12
    assert business["revenue"] == [
        {
            "currency": "USD",
            "subscriptions": 2,
            "mrr": "64.83 USD",
            "arr": "778.00 USD",
            "url": "/admin/tenants/tenant/?status__in=active%2Cpast_due",
        }
    ]
    churn = business["churn"]
    assert (churn["churned"], churn["alive_then"], churn["percent"]) == (1, 2, 50.0)
    assert business["trials_ending"]["count"] == 1
    past_due = business["past_due"]
    assert past_due["count"] == 1
    assert [(row["subdomain"], row["amount"], row["open_invoices"]) for row in past_due["rows"]] == [
        ("bravo", "190.00 USD", 1)
    ]
    assert [row["subdomain"] for row in business["newest"]["rows"]] == ["charlie", "bravo", "alpha", "delta"]


def test_health_figures(operator_client, world, settings):
    health = _dashboard(operator_client)["health"]
    assert health["failed_jobs"]["count"] == 1
    assert health["email"]["failed"] == 1
    assert health["database"]["size_mb"] > 0
    assert health["migrations"]["count"] == 0
    assert health["spares"]["target"] == settings.SCHEMA_POOL_SIZE
    assert health["version"]
    # delta's closing queued two jobs, its email and billing's workspace_closed: both wait for a worker.
    assert health["queue"]["depth"] == 2
    jobs_run(queues=["emails"])
    assert _dashboard(operator_client)["health"]["queue"]["depth"] == 1  # a job done no longer counts


def test_figures_link_to_the_lists_behind_them(operator_client, world):
    response = operator_client.get("/admin/")
    dashboard, body = response.context["dashboard"], response.content.decode()
    business, health = dashboard["business"], dashboard["health"]
    statuses = {row["label"]: row["url"] for row in business["by_status"]}
    assert _listed(operator_client, statuses["Past due"]) == {"bravo"}
    assert _listed(operator_client, statuses["Cancelled"]) == {"delta"}
    plans = {row["label"]: row["url"] for row in business["by_plan"]}
    assert _listed(operator_client, plans["Growth"]) == {"alpha"}
    assert _listed(operator_client, business["conversion"]["paid_url"]) == {"alpha", "bravo"}
    assert _listed(operator_client, business["conversion"]["cohort_url"]) == {"alpha", "bravo", "delta"}
    assert _listed(operator_client, business["revenue"][0]["url"]) == {"alpha", "bravo"}
    assert _listed(operator_client, business["trials_ending"]["url"]) == {"charlie"}
    assert _listed(operator_client, business["signups"]["url"]) == {"bravo", "charlie"}
    assert _listed(operator_client, business["signups"]["days"][-1]["url"]) == {"charlie"}
    assert _listed(operator_client, business["churn"]["url"], "tenant_label") == {"delta"}
    assert _listed(operator_client, business["past_due"]["rows"][0]["invoices_url"], "stripe_id") == {"in_open"}
    assert _listed(operator_client, health["failed_jobs"]["url"], "error") == {"boom"}
    assert _listed(operator_client, health["email"]["failed_url"], "to") == {"owner@alpha.test"}
    assert f'href="{statuses["Past due"]}"' in body
    assert 'href="{}"'.format(business["conversion"]["paid_url"].replace("&", "&amp;")) in body
    assert "<svg" in body and "<script" not in body.split('id="ops-dashboard"')[1].split("</svg>")[0]


def test_index_queries_do_not_grow_with_the_number_of_workspaces(operator_client):
    def add_workspaces(count: int, start: int) -> None:
        statuses = ["trialing", "active", "past_due", "cancelled"]
        tenants = Tenant.objects.bulk_create(
            Tenant(
                schema_name=f"bulk_{n}",
                subdomain=f"bulk-{n}",
                business_name=f"Bulk {n}",
                status=statuses[n % 4],
                plan=["starter", "growth"][n % 2],
                created_at=timezone.now() - timedelta(days=n),
            )
            for n in range(start, start + count)
        )
        for tenant in tenants:
            if tenant.status in ("active", "past_due"):
                _subscribe(tenant, status=tenant.status, interval="month")
            if tenant.status == "past_due":
                Invoice.objects.create(
                    tenant=tenant,
                    stripe_id=f"in_{tenant.pk}",
                    status="open",
                    amount_due=1900,
                    currency="usd",
                    created=timezone.now(),
                )

    def queries_for_index() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator_client.get("/admin/").status_code == 200
        return len(captured)

    add_workspaces(3, 0)
    queries_for_index()  # warm: sessions, content types
    few = queries_for_index()
    add_workspaces(27, 3)
    assert queries_for_index() == few


def test_anonymous_is_sent_to_the_login(public_client):
    response = public_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
