"""launch_check in a complete production-like deployment passes every item, with real backups made and
test-restored. Backups read in transactions of their own, so these tests commit (committed_db)."""

import pytest
from django.db import connection

from console import backups, launch
from tenants.models import Domain
from tests.support.backups import flip_byte_in, scratch_schemas
from tests.support.launch import PRODUCTION_HOST, production_like, resolve_to_proxy
from tests.support.sentry import EnvelopeServer
from tests.support.workspaces import add_member


@pytest.fixture
def deployment(settings, backup_dir, make_committed_workspace, fake_stripe, sentry):
    """Two workspaces, their nightly backups and a whole-database backup in the test's own storage, and
    production settings; the rows production_like adds are removed afterwards."""
    production_like(settings, stripe=fake_stripe, sentry_dsn=sentry.dsn)
    alpha = make_committed_workspace("lcalpha")
    make_committed_workspace("lcbeta")
    add_member(alpha, "ann@lcalpha.test")
    backups.database_backup()
    backups.workspaces_backup_all()
    yield backup_dir
    connection.set_schema_to_public()
    Domain.objects.filter(domain=PRODUCTION_HOST).delete()


def _not_passing(results) -> dict:
    return {check.name: (check.status, check.reason) for check in results if check.status != launch.PASS}


def test_a_production_like_deployment_passes_every_item(settings, deployment, fake_stripe, sentry):
    results = launch.launch_checks_run(resolve=resolve_to_proxy)

    # The caches are built at start-up: without REDIS_URL in the environment they are per-process memory,
    # which production refuses.
    expected = set() if settings.REDIS_URL else {"redis", "environment", "check --deploy"}
    assert set(_not_passing(results)) == expected, _not_passing(results)
    by_name = {check.name: check for check in results}
    assert "2 workspaces backed up" in by_name["backups"].reason
    assert "restored into a scratch schema" in by_name["backups"].reason
    assert by_name["stripe"].reason.startswith("live key of acct_portal_test; webhook endpoint we_launch")
    assert fake_stripe.calls("GET", "/v1/account") and fake_stripe.calls("GET", "/v1/webhook_endpoints")
    assert by_name["monitoring"].reason.endswith("accepted a probe; JSON logs")
    assert by_name["email"].reason.endswith("API reached (sender not verified here)")
    assert sentry.paths == ["/api/1/envelope/"] and b'"type": "client_report"' in sentry.envelopes[0]
    assert not sentry.events()  # the probe made no issue
    assert by_name["DNS"].reason == f"{PRODUCTION_HOST} and *.{PRODUCTION_HOST} -> ['203.0.113.10']"
    assert [s for s in scratch_schemas() if s.startswith("restore_")] == []


def test_a_damaged_workspace_backup_fails_the_backups_item(deployment):
    newest = deployment / backups.workspaces_backup_last_run()["newest"]
    flip_byte_in(newest, backups.PUBLIC_ROWS, at=10)

    check = launch.backups_check()

    assert check.status == launch.FAIL
    assert check.reason.startswith("the newest workspace backup does not restore:") and "checksum" in check.reason


def test_stripe_without_our_endpoint_and_unreachable_services_fail(settings, deployment, fake_stripe):
    fake_stripe.objects["we_launch"]["url"] = f"https://{PRODUCTION_HOST}/somewhere-else/"
    check = launch.stripe_check()
    assert check.status == launch.FAIL
    assert check.reason == f"no endpoint at {PRODUCTION_HOST} (we_launch) has its secret stored here"

    fake_stripe.objects.pop("we_launch")
    check = launch.stripe_check()
    assert check.status == launch.FAIL
    assert check.reason == f"Stripe has no enabled webhook endpoint at {PRODUCTION_HOST}"

    fake_stripe.down = True
    check = launch.stripe_check()
    assert check.status == launch.FAIL and check.reason.startswith("Stripe refused the key or cannot be reached")

    with EnvelopeServer() as closed:
        dsn = closed.dsn
    settings.SENTRY_DSN = dsn  # nothing listens there any more
    check = launch.monitoring_check()
    assert check.status == launch.FAIL and "did not accept a probe: unreachable" in check.reason

    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": dsn.replace("public@", "")}
    check = launch.email_check()
    assert check.status == launch.FAIL and "postmark's API at http://127.0.0.1:" in check.reason
