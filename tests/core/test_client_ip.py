"""The client's address: X-Forwarded-For is believed only from trusted proxies (CIDR list)."""

import pytest
from django.test import RequestFactory

from core.http import client_ip, client_key


def request(remote="192.0.2.10", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_trusted_proxies_the_socket_address_counts(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request(forwarded="203.0.113.9")) == "192.0.2.10"


def test_loopback_is_not_trusted_unless_listed(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request(remote="127.0.0.1", forwarded="203.0.113.9")) == "127.0.0.1"
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert client_ip(request(remote="127.0.0.1", forwarded="203.0.113.9")) == "203.0.113.9"


def test_behind_a_trusted_proxy_spoofed_hops_on_the_left_are_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request(remote="10.0.0.2", forwarded="198.51.100.1, 203.0.113.9")) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "172.16.0.0/12"]
    forwarded = "198.51.100.1, 203.0.113.9, 172.16.0.5, 10.1.1.1"
    assert client_ip(request(remote="10.0.0.2", forwarded=forwarded)) == "203.0.113.9"


def test_a_request_that_does_not_come_through_the_proxy_cannot_claim_an_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request(remote="203.0.113.50", forwarded="10.0.0.9")) == "203.0.113.50"


@pytest.mark.parametrize("forwarded", ["", "not-an-ip", "  ,  "])
def test_a_missing_or_garbled_header_behind_a_proxy_falls_back_to_the_proxy(settings, forwarded):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request(remote="10.0.0.2", forwarded=forwarded)) == "10.0.0.2"


def test_ipv6_clients_are_counted_by_their_64(settings):
    settings.TRUSTED_PROXIES = []
    first = client_key(request(remote="2001:db8:1:2::1"))
    rotated = client_key(request(remote="2001:db8:1:2:ffff:ffff:ffff:ffff"))
    neighbour = client_key(request(remote="2001:db8:1:3::1"))
    assert first == rotated == "2001:db8:1:2::/64" and neighbour != first
    assert client_key(request(remote="192.0.2.10")) == "192.0.2.10"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("::ffff:192.0.2.10", None, "192.0.2.10"),  # IPv4 through an IPv6 socket: not one shared ::/64
        ("::ffff:127.0.0.1", "203.0.113.9:5678", "203.0.113.9"),  # a port in the header
        ("::ffff:127.0.0.1", "[2001:db8::7]:443", "2001:db8::7"),
    ],
)
def test_mapped_addresses_and_ports_are_understood(settings, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert client_ip(request(remote=remote, forwarded=forwarded)) == expected
