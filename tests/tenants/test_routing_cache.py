"""The hostname -> workspace cache (tenants/routing.py): warm requests spend no SQL on routing, and any
change to a workspace or its domains is seen by the very next request. Per-page statement budgets keep
the per-request work from growing back unnoticed."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Plan
from tenants import routing, services
from tenants.models import Domain, Tenant
from tests.support.clients import host_client, logged_in_client, workspace_client

pytestmark = pytest.mark.django_db


def statements(client, path: str) -> list[str]:
    client.get(path)  # warm: route, session and plan names cached
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return [query["sql"] for query in captured.captured_queries]


def routing_statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements that looked a hostname up in the database (none when its route was cached)."""
    return [q["sql"] for q in captured.captured_queries if "tenants_domain" in q["sql"] or "tenants_tenant" in q["sql"]]


# Most statements a warm request may issue, SET search_path included.
BUDGETS = [
    ("workspace", "/", 2),  # search_path, the user
    ("workspace", "/team/", 4),
    ("workspace", "/billing/", 5),
    ("anonymous", "/login/", 0),
    ("public", "/terms/", 0),
    ("public", "/", 2),  # search_path, the plans on the landing page
]


@pytest.mark.parametrize(("who", "path", "budget"), BUDGETS)
def test_warm_pages_stay_within_their_statement_budget(make_workspace, settings, who, path, budget):
    tenant = make_workspace("alpha")
    client = {
        "workspace": lambda: logged_in_client(tenant),
        "anonymous": lambda: workspace_client(tenant),
        "public": lambda: host_client(settings.BASE_DOMAIN),
    }[who]()
    sql = statements(client, path)
    assert len(sql) <= budget, "\n".join(sql)
    assert not [s for s in sql if "tenants_domain" in s or "tenants_tenant" in s], "routing went to the database"
    assert sum(s.startswith("SET search_path") for s in sql) <= 1


def test_a_queryset_update_of_a_workspace_is_seen_by_the_next_request(make_workspace):
    tenant = make_workspace("alpha")
    client = logged_in_client(tenant)
    with CaptureQueriesContext(connection) as warm:
        assert client.get("/").status_code == 200
    assert not routing_statements(warm), "the route must be cached, for the update to have to get past it"
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)
    assert client.get("/").status_code == 403


def test_plan_renames_show_at_once(make_workspace):
    tenant = make_workspace("alpha")
    client = logged_in_client(tenant)
    plan = Plan.objects.get(slug=tenant.plan)
    assert plan.name in client.get("/").content.decode()
    plan.name = "Starter Deluxe"
    plan.save()
    assert "Starter Deluxe" in client.get("/").content.decode()


def test_an_unknown_host_is_remembered_until_a_workspace_takes_it(make_workspace):
    with CaptureQueriesContext(connection) as cold:
        assert host_client("later.localhost").get("/login/").status_code == 404
    assert routing_statements(cold), "the first request must look the host up (the cache starts cold)"
    with CaptureQueriesContext(connection) as warm:
        assert host_client("later.localhost").get("/login/").status_code == 404
    assert not warm.captured_queries  # remembered: random hosts cost no query each
    make_workspace("later", business_name="Later Ltd")
    assert "Later Ltd" in host_client("later.localhost").get("/login/").content.decode()


def test_a_removed_domain_stops_answering(make_workspace):
    tenant = make_workspace("alpha")
    assert workspace_client(tenant).get("/login/").status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert workspace_client(tenant).get("/login/").status_code == 200
    assert not routing_statements(warm), "the route must be cached, for the removal to have to get past it"
    Domain.objects.filter(tenant=tenant).delete()
    assert workspace_client(tenant).get("/login/").status_code == 404


def test_a_purged_subdomain_taken_again_routes_to_the_new_workspace_only(make_workspace, settings):
    old = make_workspace("alpha", business_name="Old Alpha")
    assert "Old Alpha" in workspace_client(old).get("/login/").content.decode()
    services.tenant_close(tenant=old, actor=old.owner_email)
    Tenant.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=settings.DELETION_GRACE_DAYS + 1))
    services.tenant_purge(tenant=old)
    new = make_workspace("alpha", business_name="New Alpha")
    body = workspace_client(new).get("/login/").content.decode()
    assert "New Alpha" in body and "Old Alpha" not in body
    assert new.schema_name != old.schema_name


def test_a_route_read_before_a_change_but_cached_after_it_is_never_used(make_workspace):
    """A slow request reads the generation and the old row, the suspension commits, then the slow
    request writes its (stale) entry: the next request must not route by it."""
    tenant = make_workspace("alpha")
    assert routing.tenant_for_host(tenant.host).status == Tenant.Status.TRIALING
    generation = caches["public"].get(routing._generation_key(tenant.host))
    old_row = routing.tenant_for_host(tenant.host)
    services.tenant_suspend(tenant=tenant, actor="op@example.com")
    stale = [getattr(old_row, name) for name in routing._FIELDS]
    caches["public"].set(routing._key(tenant.host), (generation, stale))
    assert routing.tenant_for_host(tenant.host).status == Tenant.Status.SUSPENDED
