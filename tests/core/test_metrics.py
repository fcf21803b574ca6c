"""Request and 5xx counters (core/metrics.py), kept by the request-log middleware in the shared cache and
shown as the error rate on the operators' dashboard."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from core import metrics
from core.logs import RequestLogMiddleware

pytestmark = pytest.mark.usefixtures("clock_still")  # hourly buckets: a test must not run across an hour


def _serve(status: int) -> None:
    RequestLogMiddleware(lambda request: HttpResponse(status=status))(RequestFactory().get("/anything/"))


@pytest.fixture(autouse=True)
def _empty_counters():
    metrics.counts_flush()  # other tests' requests, still pending in this process
    caches["public"].delete_many(
        [
            f"{kind}:{(timezone.now() - timedelta(hours=h)).strftime('%Y%m%d%H')}"
            for kind in (metrics.REQUESTS, metrics.ERRORS)
            for h in range(30)
        ]
    )


def test_every_answer_is_counted_and_5xx_as_errors():
    for status in (200, 302, 404, 429, 500, 503):
        _serve(status)

    assert metrics.error_rate(hours=24) == {"hours": 24, "requests": 6, "errors": 2, "percent": 33.33}


def test_the_rate_covers_the_last_hours_only():
    now = timezone.now()
    metrics.request_counted(500, now=now - timedelta(hours=30))  # expired by then, and outside the window
    metrics.request_counted(500, now=now - timedelta(hours=23))
    metrics.request_counted(200, now=now)

    assert metrics.error_rate(hours=24, now=now) == {"hours": 24, "requests": 2, "errors": 1, "percent": 50.0}
    assert metrics.error_rate(hours=1, now=now)["errors"] == 0


def test_counts_reach_the_shared_cache_in_batches(monkeypatch):
    key = f"{metrics.REQUESTS}:{timezone.now().strftime('%Y%m%d%H')}"
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 3600)
    metrics.request_counted(500)
    metrics.request_counted(200)
    assert caches["public"].get(key) is None  # pending in this process: no round trip per request

    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 0)
    metrics.request_counted(200)
    assert int(caches["public"].get(key)) == 3  # another instance's dashboard sees them now
    caches["public"].incr(key, 10)  # another instance's flush
    assert metrics.error_rate(hours=1)["requests"] == 13


def test_no_requests_is_no_rate():
    assert metrics.error_rate(hours=24)["percent"] is None


def test_health_probes_are_not_counted(client):
    assert client.get("/healthz").status_code == 200
    assert metrics.error_rate(hours=1)["requests"] == 0


@pytest.mark.django_db
def test_the_dashboard_shows_the_error_rate(operator_client):
    _serve(500)
    page = operator_client.get("/admin/").content.decode()
    row = page.split("Server errors, 24 h")[1][:400]
    assert "1 of " in row and "ops-bad" in row


@pytest.mark.django_db
def test_the_database_size_is_measured_by_the_worker_and_read_from_the_cache():
    from core.tasks import measure_database_size

    caches["public"].delete(metrics.DATABASE_SIZE)
    measured = measure_database_size(timestamp=0)
    assert measured > 1024 * 1024
    assert metrics.database_size()["bytes"] == measured

    caches["public"].set(metrics.DATABASE_SIZE, {"bytes": 42, "measured_at": timezone.now()})
    assert metrics.database_size()["bytes"] == 42  # the page does not measure again

    caches["public"].delete(metrics.DATABASE_SIZE)
    assert metrics.database_size()["bytes"] > 1024 * 1024  # no measurement yet: measured now, and kept
    assert caches["public"].get(metrics.DATABASE_SIZE)["bytes"] > 1024 * 1024


def test_static_files_are_not_counted():
    request = RequestFactory().get("/static/css/portal.css")
    RequestLogMiddleware(lambda request: HttpResponse(status=200))(request)
    assert metrics.error_rate(hours=1)["requests"] == 0
