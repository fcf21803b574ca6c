"""The operators' admin: login throttled like the workspaces', optionally limited to ADMIN_ALLOWED_IPS."""

import pytest

from tests.support.clients import host_client
from tests.support.operators import operator_create, operator_login
from tests.support.workspaces import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_still")]


def test_admin_login_failures_are_throttled_and_the_right_password_then_waits_from_that_client(settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "3/10m"
    _, device = operator_create("op@example.com", PASSWORD, full_name="Op")
    client = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.20")
    for _ in range(3):
        assert client.post("/admin/login/", {"username": "op@example.com", "password": "wrong"}).status_code == 200
    refused = client.post("/admin/login/", {"username": "op@example.com", "password": PASSWORD})
    assert refused.status_code == 429
    assert client.get("/admin/").status_code == 302  # not logged in
    elsewhere = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.21")  # the operator, from their desk
    assert operator_login(elsewhere, "op@example.com", PASSWORD, device).status_code == 302


def test_admin_only_from_allowed_networks(settings, operator_client):
    settings.ADMIN_ALLOWED_IPS = ["203.0.113.0/24"]
    assert operator_client.get("/admin/", REMOTE_ADDR="198.51.100.1").status_code == 404
    assert operator_client.get("/admin/", REMOTE_ADDR="203.0.113.7").status_code == 200
    assert host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.1").get("/terms/").status_code == 200
