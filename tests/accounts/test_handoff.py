"""The signup hand-off token: one use, short-lived, bound to its workspace."""

import pytest

from accounts.handoff import handoff_token_make
from tests.conftest import workspace_client

pytestmark = pytest.mark.django_db


def test_token_logs_the_owner_in_once(make_workspace):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    token = handoff_token_make(tenant=a, email="owner@alpha.test")
    first = workspace_client(a)
    assert first.get(f"/welcome/?token={token}")["Location"] == "/"
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
