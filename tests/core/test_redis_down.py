"""Redis down (docs/decisions.md): pages keep working on cache misses, login and password reset fail closed
(503, try again shortly), the global request limit and signup limits fail open. Redis is really down: the
caches are those config/settings/base.py builds for a REDIS_URL whose port nothing listens on."""

import logging
import runpy

import pytest
from django.conf import settings as django_settings

from tests.support.clients import host_client, logged_in_client
from tests.support.ports import free_port as closed_port
from tests.support.workspaces import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Call it to lose Redis: every cache alias becomes the settings' own Redis configuration on a closed port."""

    def down():
        with monkeypatch.context() as env:
            env.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
            env.setenv("DATABASE_URL", "postgres://unused@127.0.0.1:1/unused")
            caches = runpy.run_path(str(django_settings.BASE_DIR / "config" / "settings" / "base.py"))["CACHES"]
        assert {alias: conf["BACKEND"] for alias, conf in caches.items()} == dict.fromkeys(
            ("default", "ratelimit", "public"), "django_redis.cache.RedisCache"
        )
        settings.CACHES = caches

    return down


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", owner_email="owner@acme.test")


def test_pages_keep_working(redis_down, acme):
    owner = logged_in_client(acme)  # before the outage; the session is in Redis and in its table
    redis_down()
    assert owner.get("/").status_code == 200  # the session read back from its table
    anonymous = host_client(acme.host)
    assert anonymous.get("/login/").status_code == 200
    public = host_client("localhost")
    for path in ("/", "/signup/", "/terms/"):
        assert public.get(path).status_code == 200, path


def test_login_and_password_reset_fail_closed(redis_down, acme):
    redis_down()
    client = host_client(acme.host, raise_request_exception=False)
    response = client.post("/login/", {"username": "owner@acme.test", "password": PASSWORD})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "try again in 5 seconds" in response.content.decode()
    assert client.get("/").status_code == 302  # not logged in
    response = client.post("/password-reset/", {"email": "owner@acme.test"})
    assert response.status_code == 503 and response["Retry-After"] == "5"


def test_signup_and_the_global_limit_fail_open(redis_down, settings, caplog, clock_still):
    settings.RATE_LIMIT_GLOBAL = "2/m"
    redis_down()
    client = host_client("localhost", REMOTE_ADDR="203.0.113.50")
    with caplog.at_level(logging.WARNING):
        assert {client.get("/terms/").status_code for _ in range(4)} == {200}
        data = {
            "business_name": "Acme Bakery",
            "subdomain": "acme",
            "full_name": "Ada Baker",
            "email": "ada@acme.test",
            "password": PASSWORD,
            "accept_terms": "on",
        }
        response = client.post("/signup/", data)
    assert response.status_code == 302 and response["Location"].startswith("http://acme.localhost/welcome/")
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("global request limit unavailable" in message for message in messages)
    assert any("signup limits unavailable" in message for message in messages)
