"""`manage.py launch_check` (console/launch.py): the seed's launch checklist against this deployment. In the
test configuration it warns about what a test setup lacks and fails on nothing; a broken item fails the run
with exit code 1; runs are shown in the admin. A production-like deployment: test_launch_check_production.py."""

import json
import shutil
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from console import launch
from console.models import LaunchCheckRun
from tests.support.launch import PRODUCTION_HOST, production_like, resolve_to_proxy

# An empty backups storage of the test's own (never the developer's .data/backups) for every test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("backup_dir")]


def _by_name(results) -> dict[str, launch.Check]:
    return {check.name: check for check in results}


def test_in_the_test_configuration_it_warns_and_fails_nothing(settings):
    results = _by_name(launch.launch_checks_run())

    expected_warn = {
        "check --deploy",  # DEBUG-less but no HTTPS, HSTS or secure cookies on localhost
        "environment",  # production would refuse BASE_DOMAIN=localhost, http://, insecure cookies
        "TLS",  # no TLS proxy, HSTS or secure cookies (the ask endpoint itself answers right)
        "monitoring",  # no SENTRY_DSN, console logs
        "queue worker",  # no worker runs during tests
        "backups",  # none made
        "DNS",  # checked in production only
        "stripe",  # no STRIPE_SECRET_KEY
        "email",  # anymail's test backend
        "operators 2FA",  # no operator in a fresh test database
    }
    if not settings.REDIS_URL:
        expected_warn.add("redis")
    statuses = {name: check.status for name, check in results.items()}
    assert {name for name, status in statuses.items() if status == launch.WARN} == expected_warn, results
    assert {name for name, status in statuses.items() if status == launch.PASS} == set(results) - expected_warn
    assert results["database migrated"].status == launch.PASS
    assert results["legal pages"].status == launch.PASS
    assert results["load test"].status == launch.PASS
    assert results["DNS"].reason == "checked in production only (APP_ENV=production)"
    assert results["backups"].reason == "no whole-database backup yet"
    assert "ask endpoint answers correctly" in results["TLS"].reason
    assert results["environment"].reason.startswith("production would refuse:")


def test_in_production_an_unsafe_setting_fails_check_deploy_and_environment(settings, fake_stripe, sentry):
    production_like(settings, stripe=fake_stripe, sentry_dsn=sentry.dsn)
    settings.DEBUG = True

    results = _by_name(launch.launch_checks_run(resolve=resolve_to_proxy))

    assert results["check --deploy"].status == launch.FAIL
    assert "portal.E001" in results["check --deploy"].reason  # core/checks.deploy_check is registered
    assert results["environment"].status == launch.FAIL
    assert results["environment"].reason.startswith("DEBUG must be off")


def test_in_production_an_unresolvable_domain_fails(settings, fake_stripe, sentry):
    production_like(settings, stripe=fake_stripe, sentry_dsn=sentry.dsn)

    def unresolvable(hostname):
        raise OSError(f"[Errno -2] Name or service not known: {hostname}")

    check = launch.dns_check(resolve=unresolvable)
    assert check.status == launch.FAIL and PRODUCTION_HOST in check.reason


def test_an_operator_without_2fa_fails_the_run_with_exit_code_1_and_the_run_is_stored():
    User.objects.create_superuser("no2fa@example.com", "correct horse battery staple")
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("launch_check", stdout=out)

    assert raised.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert "FAIL  operators 2FA: 1 of 1 operators have no confirmed authenticator: no2fa@example.com" in lines, (
        out.getvalue()
    )
    assert "      fix: Send each a link: manage.py operator_2fa <email>." in lines
    assert lines[-1].endswith("1 FAIL (test)")
    run = LaunchCheckRun.objects.get()
    assert run.failed == 1 and run.environment == "test"
    assert {"name": "operators 2FA", "status": "FAIL"}.items() <= next(
        item for item in run.results if item["name"] == "operators 2FA"
    ).items()


def test_a_pending_migration_fails(settings, tmp_path):
    package = tmp_path / "legal_migrations_pending_launch"
    shutil.copytree(Path(__file__).resolve().parents[2] / "legal" / "migrations", package)
    (package / "9999_not_yet.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, "legal": package.name}
    try:
        check = launch.database_check()
    finally:
        sys.path.remove(str(tmp_path))
    assert check.status == launch.FAIL
    assert "legal.9999_not_yet" in check.reason and "migrate_workspaces" in check.fix


def test_a_workspace_schema_behind_the_template_fails(make_workspace):
    tenant = make_workspace("behind")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {tenant.schema_name}.django_migrations WHERE app = 'accounts'")

    check = launch.database_check()

    assert check.status == launch.FAIL
    assert "differ from the template" in check.reason and tenant.schema_name in check.reason


def test_json_output_without_fail_exits_zero():
    out = StringIO()
    call_command("launch_check", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["environment"] == "test" and body["summary"]["FAIL"] == 0
    assert [check["name"] for check in body["checks"]][:2] == ["database migrated", "check --deploy"]
    assert {"name", "status", "reason", "fix"} == set(body["checks"][0])


def test_the_last_run_is_shown_in_the_admin(operator_client):
    call_command("launch_check", stdout=StringIO())
    run = LaunchCheckRun.objects.get()

    changelist = operator_client.get("/admin/console/launchcheckrun/")
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert "queue worker (WARN)" in page and "DNS (WARN)" in page

    detail = operator_client.get(f"/admin/console/launchcheckrun/{run.pk}/change/").content.decode()
    assert "WARN  DNS: checked in production only (APP_ENV=production)" in detail
