"""The global request limit: per client on every host, webhooks exempt, off switch."""

import pytest

from tests.support.clients import host_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_still")]


@pytest.fixture
def limit(settings):
    settings.RATE_LIMIT_GLOBAL = "3/m"
    return settings


def test_requests_over_the_limit_get_429_on_any_host(limit, make_workspace):
    acme = make_workspace("acme")
    client = host_client("localhost", REMOTE_ADDR="198.51.100.7")
    assert [client.get("/terms/").status_code for _ in range(3)] == [200, 200, 200]
    refused = host_client(acme.host, REMOTE_ADDR="198.51.100.7").get("/login/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert host_client("localhost", REMOTE_ADDR="198.51.100.8").get("/terms/").status_code == 200  # someone else


def test_ipv6_clients_share_a_counter_per_64(limit):
    statuses = [
        host_client("localhost", REMOTE_ADDR=f"2001:db8:7:7::{n}").get("/terms/").status_code for n in range(1, 5)
    ]
    assert statuses == [200, 200, 200, 429]


def test_webhooks_are_exempt(limit):
    client = host_client("localhost", REMOTE_ADDR="198.51.100.9")
    statuses = [
        client.post("/anymail/postmark/tracking/", data="{}", content_type="application/json").status_code
        for _ in range(5)
    ]
    assert 429 not in statuses


def test_off_means_off(settings):
    settings.RATE_LIMIT_GLOBAL = "off"
    client = host_client("localhost", REMOTE_ADDR="198.51.100.10")
    assert {client.get("/terms/").status_code for _ in range(20)} == {200}
