"""Shared fixtures (only fixtures and hooks: helpers a test imports live in tests/support/). The test
database gets, once per session and committed: the public tenant, the migrated template schema and a pool
of spare schemas. Tests run inside a transaction that is rolled back, so a test can provision workspaces
(claiming spares) and leave the pool as it found it."""

import itertools
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import signup
from tenants.models import Domain, Tenant
from tenants.schemas import pool
from tests.support.clients import host_client
from tests.support.operators import operator_client_for, operator_create
from tests.support.sentry import EnvelopeServer
from tests.support.workspaces import PASSWORD
from tests.support.world import committed_cleanup, committed_snapshot

# The `database` outage fixture; the slow suites' `stack` (a PostgreSQL and a Redis of their own).
pytest_plugins = ["tests.support.outage", "tests.support.stack"]

POOL_SIZE = 8
_sequence = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Always create the test database, also for a run with only `committed_db` tests (pytest-django's
    own fixture sets up only the databases that `django_db`-marked tests ask for)."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        public, _ = Tenant.objects.get_or_create(
            schema_name=settings.PUBLIC_SCHEMA_NAME, defaults={"kind": Tenant.Kind.PUBLIC}
        )
        Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public})
        pool.template_ensure()
        pool.pool_fill(size=POOL_SIZE)
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        teardown_databases(databases, verbosity=0)


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings):
    """Django's test runner swaps in locmem email; we read what anymail would have sent."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture(autouse=True)
def _empty_caches():
    """Throttle counters and cached entries must not leak from one test into the next. With REDIS_URL
    this flushes that Redis database: point tests at one of their own (.ci/run uses /15)."""
    from django.core.cache import caches

    for alias in ("default", "ratelimit", "public"):
        caches[alias].clear()


@pytest.fixture
def clock_still():
    """Time stands still for the test (process-wide: the live server's threads too). Rate limits count in
    fixed windows, and django-ratelimit ends each key's window at its own offset in the period: a test
    that counts up to a limit and runs across that edge sees its counter start again at 0 (this failed
    CI once, at 15:17:08 UTC, for 192.0.2.66 under 4/10m)."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def make_workspace(db):
    """Provision a ready workspace with its owner (a spare claimed inside the test's transaction)."""

    def make(subdomain: str | None = None, *, business_name: str = "", owner_email: str = "", password: str = PASSWORD):
        n = next(_sequence)
        subdomain = subdomain or f"shop{n}"
        tenant = signup.workspace_create(
            business_name=business_name or f"Shop {n}",
            subdomain=subdomain,
            owner_email=owner_email or f"owner@{subdomain}.test",
            owner_name=f"Owner {n}",
            owner_password_hash=make_password(password),
        )
        connection.set_schema_to_public()
        return tenant

    return make


@pytest.fixture
def make_committed_workspace(committed_db):
    """Like make_workspace, but committed (for tests with threads or a real worker); removed afterwards."""

    def make(subdomain: str, *, owner_email: str = "") -> Tenant:
        tenant = signup.workspace_create(
            business_name=subdomain.title(),
            subdomain=subdomain,
            owner_email=owner_email or f"owner@{subdomain}.test",
            owner_name="Owner",
            owner_password_hash=make_password(PASSWORD),
        )
        connection.set_schema_to_public()
        return tenant

    return make


@pytest.fixture
def operator_client(db):
    """An operator logged in to the admin with their password and a code from their authenticator."""
    return operator_client_for(*operator_create("op@example.com", PASSWORD, full_name="Olga Operator"))


@pytest.fixture
def backup_dir(settings, tmp_path) -> Path:
    """An empty backups storage of the test's own, in tmp_path (never the developer's .data/backups)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


@pytest.fixture
def sentry():
    """A stand-in for Sentry's ingest (tests/support/sentry.py) listening at `sentry.dsn`."""
    with EnvelopeServer() as server:
        yield server


@pytest.fixture
def fake_stripe(settings):
    """Stripe keys set and stripe-python talking to a fake that speaks Stripe's wire format."""
    import stripe

    from billing.fake_stripe import FakeStripeClient as FakeStripe

    settings.STRIPE_SECRET_KEY = "sk_test_" + "F4keKeyForTests0123456789"
    previous = stripe.default_http_client
    fake = FakeStripe()
    stripe.default_http_client = fake
    yield fake
    stripe.default_http_client = previous


@pytest.fixture
def public_client() -> Client:
    return host_client(settings.BASE_DOMAIN)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """For tests whose work must really commit (threads, a live server): no wrapping transaction; every
    workspace, row and schema the test made is removed afterwards and the spare pool refilled."""
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_"), "committed_db outside the test database"
        before = committed_snapshot()
        try:
            yield
        finally:
            connection.set_schema_to_public()
            committed_cleanup(before)
            pool.pool_fill(size=POOL_SIZE)
