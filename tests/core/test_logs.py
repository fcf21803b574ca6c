"""Structured logs (core/logs.py): every request logs one JSON line with its request id, workspace and
user id; every line of a request carries its context and no other request's; no password, cookie or
token ever appears."""

import io
import itertools
import json
import logging
from types import SimpleNamespace

import pytest

from core import logs
from tests.support.clients import host_client, logged_in_client, workspace_client
from tests.support.queue import jobs_run
from tests.support.workspaces import PASSWORD, signup_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """The JSON lines the production formatter writes, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(json=True))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def read() -> tuple[str, list[dict]]:
        raw = stream.getvalue()
        return raw, [json.loads(line) for line in raw.splitlines() if line.strip()]

    yield read
    root.removeHandler(handler)
    root.setLevel(previous_level)


def requests_of(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("event") == "request"]


@pytest.fixture
def request_clock(monkeypatch):
    """The request log's clock, controlled: it moves on 250 ms each time it is read, so every request lasts
    exactly 250 ms (read once when the request comes in and once when its line is written)."""
    readings = itertools.count(start=1000.0, step=0.25)
    monkeypatch.setattr(logs, "time", SimpleNamespace(perf_counter=lambda: next(readings)))


def test_each_request_logs_its_id_workspace_user_and_outcome(make_workspace, log_lines, request_clock):
    tenant = make_workspace("acme")
    client = logged_in_client(tenant)
    response = client.get("/", HTTP_X_REQUEST_ID="caddy-req-0001")
    assert response["X-Request-ID"] == "caddy-req-0001"
    anonymous = workspace_client(tenant).get("/login/", HTTP_X_REQUEST_ID="not a valid id!")
    _, lines = log_lines()
    dashboard, login_page = requests_of(lines)[-2:]
    assert dashboard["request_id"] == "caddy-req-0001"
    assert dashboard["workspace"] == "acme" and isinstance(dashboard["user_id"], int)
    assert (dashboard["method"], dashboard["path"], dashboard["status"]) == ("GET", "/", 200)
    assert dashboard["level"] == "info" and dashboard["duration_ms"] == 250.0 and dashboard["timestamp"]
    assert "user_id" not in login_page and login_page["workspace"] == "acme"
    assert login_page["request_id"] == anonymous["X-Request-ID"] != "not a valid id!"


def test_lines_inside_a_request_carry_its_context_and_never_the_previous_ones(make_workspace, log_lines):
    a, b = make_workspace("alpha"), make_workspace("bravo")
    logged_in_client(a).get("/")
    host_client("nobody.localhost").get("/")  # unknown host: no workspace at all
    workspace_client(b).get("/login/")
    _, lines = log_lines()
    alpha, unknown, bravo = requests_of(lines)[-3:]
    assert alpha["workspace"] == "alpha"
    assert "workspace" not in unknown and "user_id" not in unknown
    assert bravo["workspace"] == "bravo" and "user_id" not in bravo
    assert len({alpha["request_id"], unknown["request_id"], bravo["request_id"]}) == 3


def test_no_password_cookie_or_token_reaches_a_line(make_workspace, log_lines, settings):
    tenant = make_workspace("acme")
    client = workspace_client(tenant)
    client.post("/login/", {"username": tenant.owner_email, "password": "wrong " + PASSWORD})
    client.post("/login/", {"username": tenant.owner_email, "password": PASSWORD})
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get("/welcome/?token=handoff-secret-0123456789")
    client.get("/invitations/invitation-secret-0123456789/")
    client.get("/password-reset/MQ/reset-secret-0123456789abcdef/")
    raw, lines = log_lines()
    assert len(requests_of(lines)) >= 5
    for secret in (PASSWORD, session, "handoff-secret", "invitation-secret", "reset-secret", tenant.owner_email):
        assert secret not in raw, secret
    paths = {line["path"] for line in requests_of(lines)}
    assert "/invitations/[scrubbed]/" in paths


def test_significant_events_are_lines_of_their_own_naming_people_by_id(make_workspace, log_lines):
    from tenants import services

    tenant = make_workspace("acme")
    client = workspace_client(tenant)
    client.post("/login/", {"username": tenant.owner_email, "password": "wrong " + PASSWORD})
    client.post("/login/", {"username": tenant.owner_email, "password": PASSWORD})
    services.tenant_suspend(tenant=tenant, actor="op@example.com", reason="abuse report")
    raw, lines = log_lines()
    events = [(line["event"], line.get("workspace"), line.get("user_id")) for line in lines]
    assert ("login_failed", "acme", None) in events
    assert any(event == "login" and workspace == "acme" and isinstance(user, int) for event, workspace, user in events)
    audit = [line for line in lines if line.get("action") == "tenant.suspended"]
    assert audit and audit[0]["audited_workspace"] == "acme"
    assert "op@example.com" not in raw and tenant.owner_email not in raw


def test_a_job_logs_with_the_id_of_the_request_that_queued_it(log_lines, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = host_client("localhost").post("/signup/", signup_data(), HTTP_X_REQUEST_ID="signup-request-77")
    assert response.status_code == 302
    jobs_run()
    _, lines = log_lines()
    job_lines = [line for line in lines if line.get("job_id")]
    assert job_lines, [line for line in lines if "email" in line["event"]]
    assert {line.get("request_id") for line in job_lines} == {"signup-request-77"}
    assert any(line["event"].startswith("email ") and line["event"].endswith(": sent") for line in job_lines)
