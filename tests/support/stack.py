"""One stack for the slow suites (tests/failover/, tests/deploy/): a PostgreSQL and a Redis of their own in
a temporary directory, the portal's database migrated and bootstrapped (the public tenant, the template
schema and the spare pool), started once per session by the `stack` fixture. Each suite starts what it
needs on top (gunicorn, PgBouncer, Caddy) with `stack.env(...)`, and may stop and start PostgreSQL or
Redis: `stack.up()` brings back whichever is down.

Django is not set up here (the failover test also runs as a script): the portal runs in its own processes,
and `manage()` runs its commands the same way."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from tests.support.servers import ROOT, Postgres, Redis

PASSWORD = "failover correct horse 42"  # every owner signed up through `signup_data`
DATABASE = "portal"


def portal_env(postgres: Postgres, redis: Redis, **extra: str) -> dict:
    """The portal's environment: test mode (dj-stripe from tests/djstripe_migrations), DEBUG off, limits high."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        APP_ENV="test",
        DEBUG="false",
        SECRET_KEY="failover-test-" + "k" * 50,
        DATABASE_URL=postgres.url(DATABASE),
        REDIS_URL=redis.url(),
        BASE_DOMAIN="localhost",
        RATE_LIMIT_GLOBAL="100000/m",
        LOGIN_RATE_PER_IP="100000/m",
        LOGIN_RATE_PER_ACCOUNT="100000/m",
        LOGIN_RATE_PER_ACCOUNT_ANYWHERE="100000/m",
        SIGNUP_RATE_PER_IP="100000/m",
        SIGNUP_RATE_GLOBAL="100000/m",
        SCHEMA_POOL_SIZE="8",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Stack:
    """PostgreSQL and Redis in one temporary directory, the portal's database bootstrapped; `close()` stops
    both and removes the directory."""

    def __init__(self, prefix: str = "portal-stack-"):
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.root.chmod(0o755)  # PostgreSQL and PgBouncer run as another user when we are root
        self._cleanup = ExitStack()
        self._cleanup.callback(shutil.rmtree, self.root, ignore_errors=True)
        try:
            self.postgres, self.redis = Postgres(self.root), Redis(self.root)
            self._cleanup.callback(self.postgres.cleanup)
            self._cleanup.callback(self.redis.cleanup)
            self.postgres.init()
            self.postgres.start()
            self.postgres.create_database(DATABASE)
            self.redis.start()
            manage(self.env(), "bootstrap")
        except BaseException:
            self.close()
            raise

    def env(self, **extra: str) -> dict:
        """The portal's environment on this stack, with `extra` on top."""
        return portal_env(self.postgres, self.redis, **extra)

    def up(self) -> None:
        """PostgreSQL and Redis running again, if a test stopped one and did not get to start it."""
        if not self.postgres.running():
            self.postgres.start()
        if not self.redis.running():
            self.redis.start()

    def close(self) -> None:
        self._cleanup.close()


@pytest.fixture(scope="session")
def stack():
    """The session's Stack, started when a test first asks for it."""
    started = time.monotonic()
    servers = Stack()
    try:
        print(f"\nPostgreSQL and Redis up, the portal bootstrapped in {time.monotonic() - started:.1f} s")
        yield servers
    finally:
        servers.close()


class Client:
    """One browser on one host: its own cookies, Host header set, redirects not followed."""

    def __init__(self, base: str, host: str):
        self.base, self.host = base, host
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Host": self.host, **kwargs.pop("headers", {})}
        return self.session.request(
            method, self.base + path, headers=headers, allow_redirects=False, timeout=(2, 15), **kwargs
        )

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict) -> requests.Response:
        """POST like the browser after showing the form: the CSRF cookie from a GET, its token in the form."""
        if "csrftoken" not in self.session.cookies:
            self.get(path)
        token = self.session.cookies.get("csrftoken", "")
        return self.request("POST", path, data={"csrfmiddlewaretoken": token, **data})


def signup_data(subdomain: str) -> dict:
    return {
        "business_name": f"Shop {subdomain}",
        "subdomain": subdomain,
        "full_name": "Owner Person",
        "email": f"owner@{subdomain}.test",
        "password": PASSWORD,
        "accept_terms": "on",
    }
