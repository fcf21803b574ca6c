from django.test import RequestFactory

from config.http import client_ip


def request(remote="192.0.2.10", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_proxies_the_socket_address_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(forwarded="203.0.113.9")) == "192.0.2.10"


def test_behind_one_proxy_the_address_it_appended_counts_and_spoofed_hops_do_not(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(forwarded="198.51.100.1, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(request(forwarded="203.0.113.9")) == "203.0.113.9"


def test_a_missing_header_behind_a_proxy_falls_back_to_the_socket(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request()) == "192.0.2.10"
    assert client_ip(request(forwarded="")) == "192.0.2.10"
