"""/healthz and /readyz (core/health.py): answered on any host before limits, redirects and routing;
readiness fails on what stops this instance from serving, and only reports what merely degrades it."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.clients import host_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["localhost", "acme.localhost", "unknown.localhost", "evil.example.com"])
def test_liveness_answers_on_any_host_without_touching_the_database(host, settings, clock_still):
    settings.RATE_LIMIT_GLOBAL = "2/m"
    settings.SECURE_SSL_REDIRECT = True
    client = host_client(host)
    with CaptureQueriesContext(connection) as captured:
        answers = [client.get("/healthz") for _ in range(5)]
    assert {response.status_code for response in answers} == {200}  # not limited, not redirected
    assert json.loads(answers[0].content) == {"status": "ok"}
    assert answers[0]["Cache-Control"] == "no-store"
    assert not captured.captured_queries


def test_readiness_is_degraded_without_a_queue_worker_and_ok_with_one():
    response = host_client("unknown.localhost").get("/readyz")
    body = json.loads(response.content)
    assert response.status_code == 200 and body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert not body["checks"]["queue_worker"]["ok"]
    assert "no queue worker is running" in body["checks"]["queue_worker"]["detail"]

    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers DEFAULT VALUES")
    body = json.loads(host_client("localhost").get("/readyz").content)
    assert body["status"] == "ok", body
    assert body["checks"]["queue_worker"]["ok"]


def test_a_stalled_worker_is_reported():
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '10 minutes')")
    body = json.loads(host_client("localhost").get("/readyz").content)
    assert body["status"] == "degraded"
    assert "last worker heartbeat 600 s ago" in body["checks"]["queue_worker"]["detail"]


def test_readiness_is_503_when_the_database_is_down(database):
    database.down()
    response = host_client("localhost").get("/readyz")
    body = json.loads(response.content)
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert not body["checks"]["database"]["ok"]
    assert "OperationalError" in body["checks"]["database"]["detail"]
    assert host_client("localhost").get("/healthz").status_code == 200  # alive all the same


def test_readiness_is_503_while_a_migration_of_the_code_is_not_applied(settings, tmp_path):
    import shutil
    import sys
    from pathlib import Path

    package = tmp_path / "legal_migrations_pending"
    shutil.copytree(Path(__file__).resolve().parents[2] / "legal" / "migrations", package)
    (package / "9999_not_yet.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, "legal": package.name}
    try:
        response = host_client("localhost").get("/readyz")
    finally:
        sys.path.remove(str(tmp_path))
    body = json.loads(response.content)
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert "legal.9999_not_yet" in body["checks"]["migrations"]["detail"]
