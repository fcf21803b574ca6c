"""Brute force: login and password reset are throttled per client IP and per account, on the shared
cache (real Redis when REDIS_URL is set, as in CI)."""

import pytest
from django.conf import settings as django_settings

from tests.support.clients import workspace_client
from tests.support.workspaces import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_still")]


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", owner_email="owner@acme.test")


def attempt(client, email, password="wrong password", ip="198.51.100.1"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_runs_on_the_configured_shared_cache():
    backend = django_settings.CACHES["ratelimit"]["BACKEND"]
    if django_settings.REDIS_URL:
        assert backend == "django_redis.cache.RedisCache"


def test_a_client_that_keeps_failing_on_an_account_is_stopped_even_with_the_right_password(acme, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "3/10m"
    client = workspace_client(acme)
    for _ in range(3):
        assert attempt(client, "owner@acme.test", ip="198.51.100.1").status_code == 200
    blocked = attempt(client, "owner@acme.test", PASSWORD, ip="198.51.100.1")
    assert blocked.status_code == 429 and "Too many attempts" in blocked.content.decode()
    assert workspace_client(acme).get("/", REMOTE_ADDR="198.51.100.1").status_code == 302  # not logged in


def test_a_stranger_failing_from_many_addresses_cannot_lock_the_owner_out(acme, settings):
    settings.LOGIN_RATE_PER_ACCOUNT_ANYWHERE = "5/10m"
    for n in range(8):  # a botnet, one failure per address
        attempt(workspace_client(acme), "owner@acme.test", ip=f"203.0.113.{n}")
    assert attempt(workspace_client(acme), "owner@acme.test", ip="203.0.113.3").status_code == 429  # took part
    assert attempt(workspace_client(acme), "owner@acme.test", PASSWORD, ip="198.51.100.200").status_code == 302


def test_the_account_key_is_case_folded_and_normalised(acme, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "2/10m"
    client = workspace_client(acme)
    for email in ("Owner@ACME.test", "owner@acme.test"):  # and the fullwidth form below: one account
        attempt(client, email, ip="198.51.100.9")
    assert attempt(client, "ｏｗｎｅｒ@acme.test", ip="198.51.100.9").status_code == 429


def test_the_answer_is_the_same_for_accounts_that_do_not_exist(acme, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "2/10m"
    client = workspace_client(acme)
    for n, email in enumerate(("owner@acme.test", "ghost@acme.test")):
        responses = [attempt(client, email, ip=f"203.0.113.{n}").status_code for _ in range(3)]
        assert responses == [200, 200, 429]


def test_one_ip_is_stopped_across_accounts_and_workspaces_without_blocking_another(acme, make_workspace, settings):
    settings.LOGIN_RATE_PER_IP = "4/10m"
    other = make_workspace("other", owner_email="owner@other.test")
    attacker, bystander = workspace_client(acme), workspace_client(other)
    for n in range(4):
        target = acme if n % 2 else other
        assert attempt(workspace_client(target), f"user{n}@x.test", ip="192.0.2.66").status_code == 200
    assert attempt(attacker, "someone@acme.test", ip="192.0.2.66").status_code == 429
    ok = attempt(bystander, "owner@other.test", PASSWORD, ip="192.0.2.77")
    assert ok.status_code == 302


def test_account_throttle_is_per_workspace(acme, make_workspace, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "2/10m"
    other = make_workspace("other", owner_email="owner@acme.test")  # same email elsewhere
    for n in range(3):
        attempt(workspace_client(acme), "owner@acme.test", ip=f"198.51.100.{n}")
    response = attempt(workspace_client(other), "owner@acme.test", PASSWORD, ip="198.51.100.50")
    assert response.status_code == 302


def test_password_reset_requests_are_throttled_too(acme, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "2/10m"
    client = workspace_client(acme)
    codes = [
        client.post("/password-reset/", {"email": "owner@acme.test"}, REMOTE_ADDR="192.0.2.1").status_code
        for _ in range(3)
    ]
    assert codes == [302, 302, 429]


def test_successful_logins_do_not_count(acme, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "2/10m"
    settings.LOGIN_RATE_PER_IP = "2/10m"
    for _ in range(4):
        assert attempt(workspace_client(acme), "owner@acme.test", PASSWORD).status_code == 302


def test_a_parallel_burst_cannot_slip_under_the_limit_while_hashes_run(acme, settings):
    """Attempts whose password hash is still running count as failures: a burst started at once is cut
    at the limit, not let through because none has failed yet."""
    from django.test import RequestFactory

    from accounts.throttle import attempt_in_flight, is_throttled

    settings.LOGIN_RATE_PER_ACCOUNT = "3/10m"
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(acme.schema_name):
        request = RequestFactory().post("/login/", REMOTE_ADDR="198.51.100.77")
        admitted = []
        with attempt_in_flight(request, email="owner@acme.test", group="login"):
            with attempt_in_flight(request, email="owner@acme.test", group="login"):
                with attempt_in_flight(request, email="owner@acme.test", group="login"):
                    admitted.append(is_throttled(request, email="owner@acme.test", group="login"))
        admitted.append(is_throttled(request, email="owner@acme.test", group="login"))  # all three are done
    connection.set_schema_to_public()
    assert admitted == [True, False]


def test_a_dotless_i_does_not_open_a_second_counter(acme, settings):
    """PostgreSQL's case-insensitive lookup reads "admın" as "admin": so must the counter."""
    settings.LOGIN_RATE_PER_ACCOUNT = "2/10m"
    client = workspace_client(acme)
    for _ in range(2):
        attempt(client, "admin@acme.test", ip="198.51.100.30")
    assert attempt(client, "adm\u0131n@acme.test", ip="198.51.100.30").status_code == 429
    assert attempt(client, "ADMIN@acme.test", ip="198.51.100.30").status_code == 429
