"""The signup hand-off token: one use, short-lived, bound to its workspace."""

import pytest

from accounts.handoff import handoff_token_make
from tests.support.clients import workspace_client

pytestmark = pytest.mark.django_db


def test_token_logs_the_owner_in_once(make_workspace):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    token = handoff_token_make(tenant=a, email="owner@alpha.test")
    first = workspace_client(a)
    landing = first.get(f"/welcome/?token={token}")
    assert landing.status_code == 200 and "Open my workspace" in landing.content.decode()
    assert first.get("/").status_code == 302  # the GET alone logs nobody in
    assert first.post("/welcome/", {"token": token})["Location"] == "/"
    assert first.get("/").status_code == 200

    replay = workspace_client(a)
    response = replay.get(f"/welcome/?token={token}")
    assert response["Location"] == "/login/?email=owner%40alpha.test"
    assert replay.get("/").status_code == 302
    login_page = replay.get(response["Location"]).content.decode()
    assert 'value="owner@alpha.test"' in login_page


def test_expired_token_prefills_the_login_instead(make_workspace, settings):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    token = handoff_token_make(tenant=a, email="owner@alpha.test")
    settings.SIGNUP_HANDOFF_MAX_AGE = 0
    client = workspace_client(a)
    assert client.get(f"/welcome/?token={token}")["Location"] == "/login/?email=owner%40alpha.test"
    assert client.get("/").status_code == 302


def test_token_for_a_is_useless_on_b(make_workspace):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    b = make_workspace("bravo", owner_email="owner@alpha.test")  # same email in both
    token = handoff_token_make(tenant=a, email="owner@alpha.test")
    client = workspace_client(b)
    assert client.get(f"/welcome/?token={token}")["Location"] == "/login/"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("token", ["", "garbage", "eyJzIjoid3MifQ:1abc:forged"])
def test_forged_or_missing_tokens_go_to_plain_login(make_workspace, token):
    a = make_workspace("alpha")
    client = workspace_client(a)
    assert client.get("/welcome/", {"token": token})["Location"] == "/login/"


def test_a_link_cannot_log_a_visitor_into_someone_elses_workspace(make_workspace):
    """Login CSRF: an attacker's page can send a victim to the hand-off link or post the token across
    sites; neither logs the victim in without a click on the workspace's own page (CSRF-protected)."""
    from django.test import Client

    a = make_workspace("alpha", owner_email="attacker@alpha.test")
    token = handoff_token_make(tenant=a, email="attacker@alpha.test")
    victim = Client(HTTP_HOST=a.host, enforce_csrf_checks=True)
    assert victim.get(f"/welcome/?token={token}").status_code == 200
    assert victim.post("/welcome/", {"token": token}).status_code == 403  # a cross-site post has no CSRF token
    assert victim.get("/").status_code == 302
