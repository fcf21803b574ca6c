"""Hostname -> workspace, cached, so a warm request spends no SQL on finding its schema.

The entry is the Tenant row's field values (not a pickle: a deploy that changes the model changes the
key) in the "public" cache: Redis when REDIS_URL is set, so every process sees an invalidation at
once; per-process memory otherwise (development, one process). Unknown hosts are cached too, so random
subdomains cannot turn into one query each. Any save, update or delete of a Tenant or Domain forgets
the hostnames concerned, immediately and again when the transaction commits, and a generation per
hostname keeps a request that read the old row meanwhile from caching it for good;
ROUTING_CACHE_SECONDS bounds what a change made behind the ORM's back (raw SQL) can leave behind.
"""

import hashlib
import secrets

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from tenants.models import Domain, Tenant, tenants_updated

_FIELDS = tuple(field.attname for field in Tenant._meta.concrete_fields)
# The key names the model's shape: entries written by another version of the code are never read.
_SHAPE = hashlib.sha1(",".join(_FIELDS).encode()).hexdigest()[:8]


def _cache():
    return caches["public"]


def _key(hostname: str) -> str:
    return f"host:{_SHAPE}:{hostname}"


def _generation_key(hostname: str) -> str:
    return f"host-generation:{hostname}"


def tenant_for_host(hostname: str) -> Tenant | None:
    """The tenant serving `hostname` (any kind; the caller decides what answers), or None.

    An entry is stored with the hostname's generation as read *before* the database was: a change
    committed while this request was reading the old row gives the hostname a new generation, so the
    entry this request then writes is never used (one round trip to Redis reads both)."""
    key, generation_key = _key(hostname), _generation_key(hostname)
    found = _cache().get_many([key, generation_key])
    generation = found.get(generation_key)
    cached = found.get(key)
    if cached is not None and cached[0] == generation:
        return None if cached[1] is None else Tenant.from_db("default", _FIELDS, cached[1])
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    tenant = domain.tenant if domain else None
    values = None if tenant is None else [getattr(tenant, name) for name in _FIELDS]
    _cache().set(key, (generation, values), settings.ROUTING_CACHE_SECONDS)
    return tenant


def hosts_forget(hostnames: list[str]) -> None:
    """Give these hostnames a new generation (so no cached route, even one being written right now by a
    request that read the old row, is used again), now and once the current transaction commits."""
    if not hostnames:
        return

    def forget():
        _cache().set_many({_generation_key(host): secrets.token_hex(8) for host in hostnames}, timeout=None)
        _cache().delete_many([_key(host) for host in hostnames])

    forget()
    transaction.on_commit(forget)


def tenants_forget(pks: list[int]) -> None:
    """Forget every hostname of these tenants (their status, plan or closing changed)."""
    if pks:
        hosts_forget(list(Domain.objects.filter(tenant_id__in=pks).values_list("domain", flat=True)))


def _tenant_changed(sender, instance: Tenant, **kwargs) -> None:
    if instance.pk is not None:
        tenants_forget([instance.pk])


def _tenants_updated(sender, pks: list[int], **kwargs) -> None:
    tenants_forget(pks)


def _domain_changed(sender, instance: Domain, **kwargs) -> None:
    hosts_forget([instance.domain])


def connect_signals() -> None:
    """Cache invalidation is the one job signals do here: no service can forget to call it."""
    from django.db.models.signals import post_delete, post_save, pre_delete

    post_save.connect(_tenant_changed, sender=Tenant, dispatch_uid="routing-tenant-saved")
    # Before the delete: its domains are still there to be listed.
    pre_delete.connect(_tenant_changed, sender=Tenant, dispatch_uid="routing-tenant-deleted")
    tenants_updated.connect(_tenants_updated, dispatch_uid="routing-tenants-updated")
    post_save.connect(_domain_changed, sender=Domain, dispatch_uid="routing-domain-saved")
    post_delete.connect(_domain_changed, sender=Domain, dispatch_uid="routing-domain-deleted")
