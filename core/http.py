"""Who is asking: the client's address, and the key request limits count it under.

`X-Forwarded-For` is honoured only when the direct peer is a trusted proxy (`TRUSTED_PROXIES`, a list of
CIDR networks; empty by default, and loopback is trusted only when listed). Walking the header from the
right, each hop a trusted proxy reported is believed until the first address that is not a trusted proxy:
that is the client. Anything to its left was written by the client and is ignored. Addresses are parsed
by the standard library's `ipaddress`; an entry that is not an address ends the walk.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def in_networks(address: Address | None, cidrs) -> bool:
    """Is the address in one of these CIDR networks (a setting's list)?"""
    return address is not None and any(address in network for network in _networks(tuple(cidrs)))


def _trusted(address: Address) -> bool:
    return in_networks(address, settings.TRUSTED_PROXIES)


def _parse(value: str) -> Address | None:
    """An address, from "1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:443" or "2001:db8::1"; an IPv4 client
    seen through an IPv6 socket (::ffff:1.2.3.4) is that IPv4 address."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest) -> Address | None:
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None or not _trusted(peer):
        return peer
    client = peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse(hop)
        if address is None:
            break
        client = address
        if not _trusted(address):
            break
    return client


def client_ip(request: HttpRequest) -> str | None:
    address = client_address(request)
    return str(address) if address else None


def client_key(request: HttpRequest) -> str:
    """The client as request limits count it: its address, or for IPv6 its /RATE_LIMIT_IPV6_PREFIX network
    (a /64 by default), so rotating addresses within one allocation does not reset the counters."""
    address = client_address(request)
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{settings.RATE_LIMIT_IPV6_PREFIX}", strict=False))
    return str(address)
