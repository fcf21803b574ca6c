"""The read-only JSON API and its CORS: workspace data only for that workspace's logged-in people."""

import pytest

from tests.support.clients import host_client, logged_in_client, workspace_client
from tests.support.workspaces import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    tenant = make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")
    add_member(tenant, "mia@acme.test", full_name="Mia")
    return tenant


def test_me_workspace_and_members_for_an_owner(acme):
    owner = logged_in_client(acme)
    assert owner.get("/api/v1/me").json() == {"email": "owner@acme.test", "name": acme.owner_name, "role": "owner"}
    workspace = owner.get("/api/v1/workspace").json()
    assert (workspace["name"], workspace["status"], workspace["members"]) == ("Acme", "trialing", 2)
    members = owner.get("/api/v1/members").json()["members"]
    assert [m["email"] for m in members] == ["owner@acme.test", "mia@acme.test"]


def test_members_list_is_for_admins_and_owners(acme):
    member = logged_in_client(acme, "mia@acme.test")
    assert member.get("/api/v1/me").json()["role"] == "member"
    refused = member.get("/api/v1/members")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"


def test_anonymous_gets_401_json_not_a_login_page(acme):
    response = workspace_client(acme).get("/api/v1/me")
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"


def test_another_workspaces_page_gets_cors_headers_but_no_data(acme, make_workspace):
    bravo = make_workspace("bravo", owner_email="owner@acme.test")  # same person, same password, on B
    from_b = logged_in_client(bravo)  # B's session cookie goes nowhere but B
    response = host_client(acme.host).get(
        "/api/v1/me", HTTP_ORIGIN="http://bravo.localhost", HTTP_COOKIE=from_b.cookies.output(header="", sep=";")
    )
    assert response["Access-Control-Allow-Origin"] == "http://bravo.localhost"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert response.status_code == 401  # B's session is unknown on A


def test_a_foreign_origin_gets_no_cors_headers(acme):
    response = logged_in_client(acme).get("/api/v1/me", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    page = logged_in_client(acme).get("/", HTTP_ORIGIN="http://bravo.localhost")
    assert "Access-Control-Allow-Origin" not in page  # CORS only on /api/


def test_unsafe_methods_need_csrf(acme):
    from django.test import Client

    owner = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    owner.post("/login/", {"username": "owner@acme.test", "password": "x"})  # sets nothing useful
    response = owner.post("/api/v1/me", HTTP_ORIGIN="http://bravo.localhost")
    assert response.status_code == 403


def test_an_unpaid_workspace_answers_the_api_in_json(acme):
    from datetime import timedelta

    from django.utils import timezone

    from tenants.models import Tenant

    owner = logged_in_client(acme)
    Tenant.objects.filter(pk=acme.pk).update(trial_ends_at=timezone.now() - timedelta(days=1))
    response = owner.get("/api/v1/workspace")
    assert response.status_code == 402 and response.json()["error"] == "payment_required"
