"""PostgreSQL unreachable: every request answers 503 with Retry-After and a page that needs no database,
wherever the error is raised (routing's hostname lookup, the session behind authentication, a view);
any other error is still the usual 500. The database is made really unreachable: the connection is
pointed at a closed port."""

import json

import pytest
from django.core.cache import caches
from django.db import OperationalError

from core.errors import server_error
from tenants import routing
from tenants.models import Tenant
from tests.support.clients import host_client


def assert_unavailable(response):
    assert response.status_code == 503, response.content.decode()[:500]
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"


def test_routing_lookup_failing_answers_503_on_every_host(database):
    database.down()
    for host, path in [("localhost", "/"), ("localhost", "/signup/"), ("acme.localhost", "/login/")]:
        response = host_client(host, raise_request_exception=False).get(path)
        assert_unavailable(response)
        page = response.content.decode()
        assert "Back in a moment" in page and "try again in 5 seconds" in page
        assert 'href="/static/css/portal.css"' in page


def test_the_api_gets_json(database):
    database.down()
    response = host_client("acme.localhost", raise_request_exception=False).get("/api/v1/me")
    assert_unavailable(response)
    assert json.loads(response.content) == {"error": "unavailable", "retry_after": 5}


@pytest.fixture
def ghost_route():
    """A workspace whose route is already cached, so the request gets past routing without the database."""
    tenant = Tenant(pk=987654, schema_name="ghost", subdomain="ghost", business_name="Ghost", kind="workspace")
    values = [getattr(tenant, name) for name in routing._FIELDS]
    caches["public"].set(routing._key(tenant.host), (None, values))  # (generation: none yet, the row)
    return tenant


def test_session_lookup_in_middleware_failing_answers_503(database, ghost_route):
    database.down()
    client = host_client(ghost_route.host, raise_request_exception=False)
    client.cookies["sessionid"] = "a" * 32  # the user is read from the session table (a cache miss)
    assert_unavailable(client.get("/"))


def test_view_query_failing_answers_503(database, ghost_route):
    database.down()
    client = host_client(ghost_route.host, raise_request_exception=False)
    assert client.get("/login/").status_code == 200  # routed from the cache, the login page needs no query
    assert_unavailable(client.post("/login/", {"username": "owner@ghost.test", "password": "x" * 12}))


def test_requests_succeed_again_once_the_database_is_back(database):
    client = host_client("localhost", raise_request_exception=False)
    database.down()
    assert_unavailable(client.get("/terms/"))
    database.up()
    assert client.get("/terms/").status_code == 200


def test_other_errors_are_still_500(rf):
    request = rf.get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500 and "Retry-After" not in response
    assert b"Something went wrong" in response.content
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        assert server_error(request).status_code == 503
