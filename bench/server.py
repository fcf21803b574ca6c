"""What bench/http_bench.py and bench/load.py share: their own database with workspaces in it, a gunicorn serving
it on a loopback port, and a small HTTP client that sends the Host header (Python does not resolve
*.localhost, so every request goes to 127.0.0.1 and names the site in the Host header, as wrk and Locust do).

The server runs the real WSGI app (`config.wsgi`) under gunicorn with 2 sync workers, as the Procfile does,
with these settings from the environment:

- APP_ENV=development with DEBUG off and a random SECRET_KEY: production mode refuses to start on a local
  domain over plain HTTP (core/checks.py wants an https:// APP_URL, Secure cookies and a real email
  provider), which a loopback benchmark cannot give. What production adds (HTTPS redirect, HSTS, __Host-
  cookie names, compressed manifest static files) changes headers, not the work a request does; the one
  difference in cost is that development serves static files through WhiteNoise's finders (autorefresh off,
  since DEBUG is off, so files are still indexed once at start).
- REDIS_URL on a Redis database of the bench's own (redis://127.0.0.1:6379/12 unless BENCH_REDIS_URL says
  otherwise), flushed at the start: cache, cached sessions, routing and throttles as in production.
- the global request limit off and the login and signup throttles far out of reach: every request of a
  benchmark comes from 127.0.0.1, which production would rightly throttle.
"""

import functools
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import bench_database  # noqa: E402

PASSWORD = "correct horse battery staple"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
UNLIMITED = "1000000/m"
WORKERS = 2
SERVER_ENV = {
    "APP_ENV": "development",
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "REDIS_URL": REDIS_URL,
    "RATE_LIMIT_GLOBAL": "off",
    "LOGIN_RATE_PER_IP": UNLIMITED,
    "LOGIN_RATE_PER_ACCOUNT": UNLIMITED,
    "LOGIN_RATE_PER_ACCOUNT_ANYWHERE": UNLIMITED,
    "SIGNUP_RATE_PER_IP": UNLIMITED,
    "SIGNUP_RATE_GLOBAL": UNLIMITED,
}


def database_prepare(*, name: str, reset: bool) -> None:
    """Django on the bench database `name`, migrated (about half a minute the first time)."""
    os.environ.update({key: SERVER_ENV[key] for key in ("REDIS_URL", "SIGNUP_RATE_PER_IP", "SIGNUP_RATE_GLOBAL")})
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    bench_database(name=name, reset=reset)


@functools.cache
def _password_hash() -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


def workspace_ensure(subdomain: str, *, members: int = 0) -> dict:
    """A workspace with its owner (owner@<subdomain>.test) and `members` members (member1@<subdomain>.test,
    ...), all with PASSWORD. Returns {"host": its hostname, "owner": email, "members": [emails]}."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts import signup
    from accounts.models import User
    from tenants.models import Tenant

    owner = f"owner@{subdomain}.test"
    tenant = Tenant.objects.filter(subdomain=subdomain).first()
    if tenant is None:
        tenant = signup.workspace_create(
            business_name=f"Bench {subdomain}",
            subdomain=subdomain,
            owner_email=owner,
            owner_name="Bench Owner",
            owner_password_hash=_password_hash(),
        )
        connection.set_schema_to_public()
    emails = [f"member{number}@{subdomain}.test" for number in range(1, members + 1)]
    with schema_context(tenant.schema_name):
        for email in emails:
            User.objects.get_or_create(
                email=email,
                defaults={"full_name": f"Member {email}", "role": User.Role.MEMBER, "password": _password_hash()},
            )
    return {"host": tenant.host, "owner": owner, "members": emails}


def workspaces_fill(count: int, prefix: str = "other") -> None:
    """At least `count` workspaces named <prefix>-<n> (each a cloned spare with an owner: ~50 ms)."""
    from tenants.models import Tenant

    have = Tenant.objects.filter(subdomain__startswith=f"{prefix}-").count()
    if have >= count:
        return
    print(f"  creating {count - have} more workspaces...", flush=True)
    started = time.perf_counter()
    for number in range(have, count):
        workspace_ensure(f"{prefix}-{number}")
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


def _database_url() -> str:
    """The bench database as DATABASE_URL for the server (a socket directory goes in ?host=)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgres://{db['USER']}{password}@/{db['NAME']}?{urlencode({'host': host})}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{db['USER']}{password}@{host}{port}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with WORKERS sync workers on 127.0.0.1:<port>, against the bench database; a context
    manager that stops it on the way out (also on Ctrl-C or an error). Its log is in `self.log_path`."""

    def __init__(self, port: int = 0):
        self.port = port or free_port()
        self.base_domain = "localhost"
        self.public_host = f"localhost:{self.port}"
        self.log_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self.log_path = self.log_dir / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env = {
            **os.environ,
            **SERVER_ENV,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": _database_url(),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "APP_URL": f"http://localhost:{self.port}",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(WORKERS),
            "--logger-class",
            "core.scrub.GunicornLogger",
            "--no-control-socket",  # gunicorn's control socket has one fixed path: two servers would collide
        ]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        # SIGTERM (e.g. from a CI runner) becomes KeyboardInterrupt, so __exit__ still stops gunicorn.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        print(f"gunicorn ({WORKERS} workers) on http://localhost:{self.port}/, log {self.log_path}", flush=True)
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = self.request("GET", "/static/css/portal.css", host=self.public_host)
                if status == 200 and len(self.worker_pids()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        import psutil

        return sorted(child.pid for child in psutil.Process(self.process.pid).children())

    def worker_rss_mb(self) -> dict[int, float]:
        import psutil

        found = {}
        for pid in self.worker_pids():
            try:
                found[pid] = psutil.Process(pid).memory_info().rss / 2**20
            except psutil.NoSuchProcess:  # a worker gunicorn is replacing
                pass
        return found

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def request(
        self, method: str, path: str, *, host: str, cookies: dict | None = None, form: dict | None = None
    ) -> tuple[int, dict, str]:
        """One request to 127.0.0.1 for `host`: (status, headers with cookies under "set-cookie", body)."""
        headers = {"Host": host}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            jar = SimpleCookie()
            for value in response.headers.get_all("Set-Cookie") or []:
                jar.load(value)
            found = {key.lower(): value for key, value in response.getheaders()}
            found["set-cookie"] = {name: morsel.value for name, morsel in jar.items()}
            return response.status, found, response.read().decode(errors="replace")
        finally:
            conn.close()

    def login(self, host: str, email: str, password: str = PASSWORD) -> dict:
        """Log in on a workspace host as a browser does (the form's CSRF token, then the POST): its cookies."""
        status, headers, body = self.request("GET", "/login/", host=host)
        cookies = headers["set-cookie"]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not token:
            raise RuntimeError(f"GET /login/ on {host}: {status}")
        form = {"csrfmiddlewaretoken": token.group(1), "username": email, "password": password}
        status, headers, _ = self.request("POST", "/login/", host=host, cookies=cookies, form=form)
        if status != 302 or "sessionid" not in headers["set-cookie"]:
            raise RuntimeError(f"POST /login/ on {host} as {email}: {status}, not a redirect with a session")
        return {**cookies, **headers["set-cookie"]}
