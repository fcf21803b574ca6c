"""Errors reach Sentry for real: sentry-sdk sends its envelopes to a local HTTP server (tests/support/sentry.py),
and the tests read what left the process: the error, its workspace and plan, an opaque user, and no secret."""

import re
import subprocess

import pytest
import sentry_sdk
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from accounts import services as accounts_services
from core.queue import defer
from core.sentry import SentryScopeMiddleware, release_detect, sentry_init, sentry_user_id
from tests.support.clients import logged_in_client, workspace_client
from tests.support.queue import jobs_run
from tests.support.sentry import EnvelopeServer, SentryWsgiClientHandler
from tests.support.workspaces import PASSWORD

QUERY_TOKEN = "Qx7-query_TOKEN.0123456789"


def _scopes_clear() -> None:
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()


@pytest.fixture
def sentry_server():
    """Sentry initialised as settings do (core.sentry.sentry_init), reporting to a local server; afterwards
    no client, so no other test reports anything."""
    with EnvelopeServer() as server:
        sentry_init(dsn=server.dsn, environment="ci", release="portal@1.2.3+test", traces_sample_rate=0.0)
        _scopes_clear()
        try:
            yield server
        finally:
            sentry_sdk.flush()
            sentry_sdk.get_client().close()
            sentry_sdk.get_global_scope().set_client(None)
            _scopes_clear()


def sent(server: EnvelopeServer) -> tuple[list[dict], bytes]:
    """The error events received so far, and every byte received."""
    sentry_sdk.flush(timeout=5)
    return server.events(), b"\n".join(server.envelopes)


def _boom(**kwargs):
    raise RuntimeError("boom")


def _csrf_form_token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_an_error_in_a_workspace_request_is_reported_tagged_and_without_secrets(
    sentry_server, make_workspace, monkeypatch
):
    tenant = make_workspace("acme", owner_email="owner@acme.test")
    client = logged_in_client(tenant)
    client.raise_request_exception = False
    client.handler = SentryWsgiClientHandler(enforce_csrf_checks=True)
    form_token = _csrf_form_token(client.get("/account/email/"))
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_cookie = client.cookies[settings.CSRF_COOKIE_NAME].value
    monkeypatch.setattr(accounts_services, "email_change_request", _boom)

    response = client.post(
        f"/account/email/?next=/account/&token={QUERY_TOKEN}",
        {"new_email": "new-address@elsewhere.test", "password": PASSWORD, "csrfmiddlewaretoken": form_token},
    )

    assert response.status_code == 500
    events, raw = sent(sentry_server)
    assert len(events) == 1, events
    event = events[0]
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "boom")
    assert event["tags"]["workspace"] == "acme"
    assert event["tags"]["plan"] == tenant.plan
    assert event["environment"] == "ci" and event["release"] == "portal@1.2.3+test"
    user_pk = client.session["_auth_user_id"]
    assert event["user"] == {"id": sentry_user_id(schema_name=tenant.schema_name, user_pk=user_pk)}
    assert event["request"]["url"].endswith("/account/email/")
    assert "next=%2Faccount%2F" in event["request"]["query_string"]
    assert event["request"]["data"]["password"] == "[scrubbed]"
    for secret in (
        session_key,
        csrf_cookie,
        form_token,
        PASSWORD,
        QUERY_TOKEN,
        "owner@acme.test",
        "new-address@elsewhere.test",
    ):
        assert secret.encode() not in raw, secret
    assert sentry_server.paths == ["/api/1/envelope/"] * len(sentry_server.paths)


def test_tags_and_user_of_one_request_never_reach_the_next(sentry_server, make_workspace, monkeypatch):
    first, second = make_workspace("first"), make_workspace("second")
    logged_in = logged_in_client(first)
    anonymous = workspace_client(second)
    logged_in.raise_request_exception = anonymous.raise_request_exception = False
    monkeypatch.setattr(accounts_services, "email_change_request", _boom)
    monkeypatch.setattr(accounts_services, "password_reset_request", _boom)

    assert logged_in.post("/account/email/", {"new_email": "n@first.test", "password": PASSWORD}).status_code == 500
    assert anonymous.post("/password-reset/", {"email": "someone@second.test"}).status_code == 500

    events, _ = sent(sentry_server)
    assert [event["tags"].get("workspace") for event in events] == ["first", "second"]
    assert "id" in events[0].get("user", {})
    assert "user" not in events[1] or "id" not in events[1]["user"]
    assert not any("first" in str(crumb) for crumb in events[1].get("breadcrumbs", {}).get("values", []))


def test_an_error_on_the_public_host_is_tagged_public(db, sentry_server, public_client, monkeypatch):
    public_client.raise_request_exception = False
    monkeypatch.setattr("legal.views.current_documents", _boom)

    assert public_client.get("/terms/").status_code == 500

    events, _ = sent(sentry_server)
    assert events[0]["tags"]["workspace"] == "public" and "plan" not in events[0]["tags"]


def test_a_failing_job_is_reported_without_its_arguments_secrets(sentry_server, make_workspace, monkeypatch):
    tenant = make_workspace("jobs", owner_email="owner@jobs.test")
    monkeypatch.setattr(accounts_services, "password_reset_send", lambda **kwargs: _boom())
    defer(accounts_services.PASSWORD_RESET_TASK, tenant_id=tenant.pk, email="owner@jobs.test")

    assert jobs_run(queues=["emails"]) == {"failed": 1}

    events, raw = sent(sentry_server)
    (event,) = events
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["logger"] == "procrastinate.worker"
    assert accounts_services.PASSWORD_RESET_TASK in event["logentry"]["message"]
    assert b"owner@jobs.test" not in raw


def test_without_sentry_the_scope_middleware_steps_aside():
    with pytest.raises(MiddlewareNotUsed):
        SentryScopeMiddleware(lambda request: None)


def test_release_is_the_checked_out_commit(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text(sha + "\n")
    assert release_detect(root=tmp_path) == sha

    (tmp_path / ".git" / "refs" / "heads" / "main").unlink()
    (tmp_path / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/main\n")
    assert release_detect(root=tmp_path) == sha

    (tmp_path / ".git" / "HEAD").write_text(sha + "\n")
    assert release_detect(root=tmp_path) == sha


def test_release_without_git_is_the_project_version(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "portal"\nversion = "4.5.6"\n')
    assert release_detect(root=tmp_path) == "portal@4.5.6"


def test_release_of_this_checkout_matches_git():
    root = settings.BASE_DIR
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert release_detect(root=root) == head.stdout.strip()
