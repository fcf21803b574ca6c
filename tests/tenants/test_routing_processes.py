"""Two server processes sharing Redis: a suspension made anywhere takes effect on both at once, although
each had the workspace's route cached, and a session made through one works through the other."""

import os

import pytest
import requests
from django.core.cache import caches

from tenants import routing, services
from tests.support.servers import portal_processes
from tests.support.workspaces import PASSWORD

pytestmark = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
    reason="needs REDIS_URL and DATABASE_URL (as in .ci/run): processes share Redis and the database",
)


def get(session: requests.Session, url: str, host: str, path: str = "/") -> requests.Response:
    return session.get(f"{url}{path}", headers={"Host": host}, allow_redirects=False, timeout=10)


def test_a_suspension_reaches_every_process_at_once(make_committed_workspace):
    tenant = make_committed_workspace("shared")
    with portal_processes(2) as (first, second):
        session = requests.Session()
        get(session, first, tenant.host, "/login/")
        response = session.post(
            f"{first}/login/",
            data={
                "username": tenant.owner_email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Host": tenant.host, "Referer": f"http://{tenant.host}/login/"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:500]
        assert get(session, first, tenant.host).status_code == 200
        assert get(session, second, tenant.host).status_code == 200  # the session, through the other process
        assert caches["public"].get(routing._key(tenant.host)) is not None  # both answered from a cached route

        services.tenant_suspend(tenant=tenant, actor="op@example.com")
        assert get(session, first, tenant.host).status_code == 403
        assert get(session, second, tenant.host).status_code == 403

        services.tenant_activate(tenant=tenant, actor="op@example.com")
        assert get(session, second, tenant.host).status_code == 200
        assert get(session, first, tenant.host).status_code == 200
