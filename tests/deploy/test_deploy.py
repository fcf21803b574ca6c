"""The production serving path with real servers: Debian's Caddy running deploy/Caddyfile (its local CA
instead of Let's Encrypt: TLS_MODE=internal) in front of two gunicorn instances started as the Procfile
starts them, on the session's PostgreSQL and Redis of our own (tests/support/stack.py).

Checked over HTTPS, trusting only Caddy's root certificate: a signup on the public host lands on the new
workspace, whose certificate Caddy obtained on demand for exactly its hostname; an unknown subdomain gets
no certificate at all (the portal's ask endpoint said no); plain HTTP redirects to HTTPS; a session made
through one instance works through the other, a suspension made by one process takes effect on both at
once, and the request limit is one count across both; Caddy spreads requests over both instances, sets a
request id when the client sent none, probes /readyz, and keeps serving (certificates for new
workspaces included) when one instance stops.

Every client connects to 127.0.0.1 (Python does not resolve *.localhost) with the workspace's name as
SNI and Host, each from its own loopback address (127.0.0.N), so the request limit counts each apart.

Not part of `make test` (marker "deploy", deselected by default): `make test-deploy`.
"""

import itertools
import json
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.ports import free_port
from tests.support.servers import ROOT, Gunicorn, process_stop, wait_for_port
from tests.support.stack import Stack, manage, signup_data

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(not shutil.which("caddy"), reason="caddy is not installed (apt-get install caddy)"),
]

# Connecting includes the TLS handshake, and a hostname's first one Caddy's on-demand certificate.
TIMEOUT = (10, 15)
RATE_LIMIT = 20  # requests per client and hour, across both instances
_sources = itertools.count(10)


class ProcfileGunicorn(Gunicorn):
    """The Procfile's `web` command as written; gunicorn.conf.py reads PORT, BIND_ADDRESS, WEB_CONCURRENCY."""

    def __init__(self, root: Path, env: dict, name: str):
        super().__init__(root, env, workers=2, name=name)
        self.env = {
            **env,
            "PORT": str(self.port),
            "BIND_ADDRESS": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "WEB_GRACEFUL_TIMEOUT": "3",
        }

    def command(self) -> list[str]:
        web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
        program, *args = shlex.split(web.removeprefix("web:"))
        return [str(Path(sys.executable).with_name(program)), *args]

    def access_log(self) -> list[dict]:
        """Whole lines only: the file may be read while gunicorn is halfway through writing one."""
        text = self.log.read_text()
        lines = text[: text.rfind("\n") + 1].splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"event": "http"')]


class Caddy:
    """`caddy run` on deploy/Caddyfile itself, configured through its environment placeholders; its
    certificates and local CA live in the temporary directory (XDG_DATA_HOME), never the machine's."""

    def __init__(self, root: Path):
        self.root = root
        self.http_port, self.https_port, self.ask_port, self.admin_port = (free_port() for _ in range(4))
        self.log = root / "caddy.log"
        self.process: subprocess.Popen | None = None
        self.root_cert = root / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def start(self, upstreams: list[int]) -> None:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
            "XDG_DATA_HOME": str(self.root / "caddy-data"),
            "XDG_CONFIG_HOME": str(self.root / "caddy-config"),
            "BASE_DOMAIN": "localhost",
            "UPSTREAMS": " ".join(f"127.0.0.1:{port}" for port in upstreams),
            "TLS_MODE": "internal",
            "HTTP_PORT": str(self.http_port),
            "HTTPS_PORT": str(self.https_port),
            "TLS_ASK_PORT": str(self.ask_port),
            "CADDY_ADMIN": f"127.0.0.1:{self.admin_port}",
        }
        command = ["caddy", "run", "--adapter", "caddyfile", "--config", str(ROOT / "deploy" / "Caddyfile")]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT)
        for port in (self.https_port, self.http_port, self.ask_port):
            wait_for_port(port, timeout=20)
        deadline = time.monotonic() + 20
        while not self.root_cert.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no local CA root at {self.root_cert}; see {self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        process_stop(self.process)
        self.process = None

    cleanup = stop


class _LoopbackAdapter(HTTPAdapter):
    """Connects from `source` (a loopback address of its own) and, over TLS, sends `hostname` as SNI and
    checks the certificate against it, whatever address the URL names."""

    def __init__(self, hostname: str, source: str):
        self.hostname, self.source = hostname, source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs.update(source_address=(self.source, 0), server_hostname=self.hostname, assert_hostname=self.hostname)
        super().init_poolmanager(*args, **kwargs)


class Browser:
    """One browser on one host, through Caddy over HTTPS (or straight to an instance over HTTP): its own
    cookies and client address; redirects not followed."""

    def __init__(self, deployment: "Deployment", host: str):
        self.deployment, self.host = deployment, host
        self.source = f"127.0.0.{next(_sources)}"
        self.session = requests.Session()
        self.session.mount("https://", _LoopbackAdapter(host, self.source))
        self.session.mount("http://", _LoopbackAdapter(host, self.source))
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would replace `verify`, a proxy variable the route
        self.session.verify = str(deployment.caddy.root_cert)
        self.origin = f"https://{host}:{deployment.caddy.https_port}"

    def get(self, path: str, **headers) -> requests.Response:
        return self.session.get(
            f"https://127.0.0.1:{self.deployment.caddy.https_port}{path}",
            headers={"Host": f"{self.host}:{self.deployment.caddy.https_port}", **headers},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def post_form(self, path: str, data: dict) -> requests.Response:
        """Like a browser after showing the form: the CSRF cookie from a GET, Origin and Referer sent."""
        if "csrftoken" not in self.session.cookies:
            self.get(path)
        return self.session.post(
            f"https://127.0.0.1:{self.deployment.caddy.https_port}{path}",
            data={"csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""), **data},
            headers={"Host": f"{self.host}:{self.deployment.caddy.https_port}", "Origin": self.origin},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def get_direct(self, instance: ProcfileGunicorn, path: str) -> requests.Response:
        """Straight to one instance over plain HTTP, bypassing Caddy, with this browser's session cookie."""
        cookie = "; ".join(f"{name}={value}" for name, value in self.session.cookies.items())
        return self.session.get(
            f"http://127.0.0.1:{instance.port}{path}",
            headers={"Host": self.host, "Cookie": cookie},
            allow_redirects=False,
            timeout=TIMEOUT,
        )


class Deployment:
    """Two gunicorn instances and Caddy in front of them, on the session's stack (PostgreSQL and Redis,
    bootstrapped), in a directory of their own in the stack's; `close()` stops them."""

    def __init__(self, stack: Stack):
        self.root = Path(tempfile.mkdtemp(prefix="deploy-", dir=stack.root))
        self._cleanup = ExitStack()
        try:
            self.caddy = Caddy(self.root)
            self.env = stack.env(
                APP_URL=f"https://localhost:{self.caddy.https_port}",
                BEHIND_TLS_PROXY="true",
                TRUSTED_PROXIES="127.0.0.1/32",
                SESSION_COOKIE_SECURE="true",
                CSRF_COOKIE_SECURE="true",
                RATE_LIMIT_GLOBAL=f"{RATE_LIMIT}/h",
            )
            self.instances = [ProcfileGunicorn(self.root, self.env, name) for name in ("web-1", "web-2")]
            for instance in self.instances:
                self._cleanup.callback(instance.cleanup)
                instance.start()
            self._warm_up()
            self._cleanup.callback(self.caddy.cleanup)
            self.caddy.start([instance.port for instance in self.instances])
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._cleanup.close()

    def _warm_up(self) -> None:
        """A fresh worker's first /readyz loads the migration graph (seconds): done before Caddy's first
        health check, which would otherwise time out and keep the instance out for an interval."""
        urls = [f"http://127.0.0.1:{instance.port}/readyz" for instance in self.instances for _ in range(4)]
        with ThreadPoolExecutor(len(urls)) as pool:
            assert all(answer.status_code == 200 for answer in pool.map(lambda u: requests.get(u, timeout=30), urls))

    def browser(self, host: str) -> Browser:
        return Browser(self, host)

    def access_logs(self, until, timeout: float = 5) -> list[list[dict]]:
        """Each instance's access log, once `until(lines of all instances)` holds: gunicorn writes a line
        just after it sent the response."""
        deadline = time.monotonic() + timeout
        while True:
            logs = [instance.access_log() for instance in self.instances]
            if until([line for log in logs for line in log]) or time.monotonic() > deadline:
                return logs
            time.sleep(0.1)

    def served_by(self, request_ids: set[str]) -> list[set[str]]:
        """Which of these request ids each instance's access log shows."""
        logs = self.access_logs(lambda lines: request_ids <= {line["request_id"] for line in lines})
        return [{line["request_id"] for line in log} & request_ids for log in logs]

    def peer_certificate(self, hostname: str) -> dict:
        context = ssl.create_default_context(cafile=str(self.caddy.root_cert))
        with socket.create_connection(("127.0.0.1", self.caddy.https_port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=hostname) as tls:
                return tls.getpeercert()


def sign_up(deployment: Deployment, subdomain: str) -> Browser:
    """Sign up on the public host and enter the workspace through the hand-off: its browser, logged in."""
    public = deployment.browser("localhost")
    response = public.post_form("/signup/", signup_data(subdomain))
    assert response.status_code == 302, response.text[:500]
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc) == ("https", f"{subdomain}.localhost:{deployment.caddy.https_port}")
    workspace = deployment.browser(f"{subdomain}.localhost")
    assert workspace.get(f"{location.path}?{location.query}").status_code == 200  # "Enter your workspace"
    entered = workspace.post_form(location.path, {"token": parse_qs(location.query)["token"][0]})
    assert entered.status_code == 302, entered.text[:500]
    return workspace


@pytest.fixture(scope="module")
def deployment(stack):
    stack.up()
    started = time.monotonic()
    servers = Deployment(stack)
    try:
        print(f"\n2 gunicorn and Caddy up in {time.monotonic() - started:.1f} s")
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="module")
def acme(deployment) -> Browser:
    return sign_up(deployment, "acme")


def test_signup_lands_on_the_workspace_over_https_with_its_own_certificate(deployment, acme):
    dashboard = acme.get("/")
    assert dashboard.status_code == 200 and "owner@acme.test" in dashboard.text
    certificate = deployment.peer_certificate("acme.localhost")
    assert certificate["subjectAltName"] == (("DNS", "acme.localhost"),)
    public = deployment.peer_certificate("localhost")
    assert public["subjectAltName"] == (("DNS", "localhost"),)
    session = next(cookie for cookie in acme.session.cookies if cookie.name == "sessionid")
    assert session.secure  # Django saw HTTPS through X-Forwarded-Proto from the trusted proxy


def test_an_unknown_subdomain_gets_no_certificate(deployment):
    with pytest.raises(ssl.SSLError):
        deployment.peer_certificate("nobody.localhost")
    # Caddy asked the portal through its loopback site, and the portal said no.
    logs = deployment.access_logs(lambda lines: any(line["query"] == "domain=nobody.localhost" for line in lines))
    asks = {(line["query"], line["status"]) for log in logs for line in log if line["path"] == "/internal/tls-ask"}
    assert {("domain=nobody.localhost", 404), ("domain=acme.localhost", 200)} <= asks, asks
    issued = deployment.caddy.root / "caddy-data" / "caddy" / "certificates" / "local"
    names = sorted(path.name for path in issued.iterdir()) if issued.exists() else []
    assert "nobody.localhost" not in names and "acme.localhost" in names, names


def test_plain_http_redirects_to_https_and_the_ask_endpoint_is_not_public(deployment):
    browser = deployment.browser("acme.localhost")
    response = browser.session.get(
        f"http://127.0.0.1:{deployment.caddy.http_port}/login/?next=/",
        headers={"Host": f"acme.localhost:{deployment.caddy.http_port}"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 308
    # Caddy leaves out the port when it is its own https_port (it expects 443 outside, as in production).
    assert response.headers["Location"] == "https://acme.localhost/login/?next=/"
    assert browser.get("/internal/tls-ask?domain=acme.localhost").status_code == 404


def test_requests_are_spread_over_both_instances_each_with_a_request_id(deployment):
    browser = deployment.browser("localhost")
    tag = uuid.uuid4().hex[:8]
    ids = {f"rr-{tag}-{n}" for n in range(6)}
    for request_id in sorted(ids):
        assert browser.get("/terms/", **{"X-Request-ID": request_id}).status_code == 200
    first, second = deployment.served_by(ids)
    assert first and second and first | second == ids, (first, second)
    assert browser.get(f"/privacy/?probe={tag}").status_code == 200  # no X-Request-ID: Caddy makes one
    logs = deployment.access_logs(lambda lines: any(line["query"] == f"probe={tag}" for line in lines))
    made = [line["request_id"] for log in logs for line in log if line["query"] == f"probe={tag}"]
    assert len(made) == 1 and uuid.UUID(made[0]), logs


def test_a_session_made_through_one_instance_works_through_the_other(deployment, acme):
    for instance in deployment.instances:
        response = acme.get_direct(instance, "/")
        assert response.status_code == 200 and "owner@acme.test" in response.text, instance.port
    stranger = deployment.browser("acme.localhost")
    assert stranger.get_direct(deployment.instances[0], "/").status_code == 302  # to the login page


def test_a_suspension_takes_effect_on_both_instances_at_once(deployment):
    owner = sign_up(deployment, "suspendme")
    assert owner.get("/").status_code == 200
    manage(
        deployment.env,
        "shell",
        "-c",
        "from tenants import services; from tenants.models import Tenant; "
        "services.tenant_suspend(tenant=Tenant.objects.get(subdomain='suspendme'), actor='op@example.com')",
    )
    for instance in deployment.instances:
        assert owner.get_direct(instance, "/").status_code == 403, instance.port
    assert [owner.get("/").status_code for _ in range(4)] == [403] * 4  # round-robin: both instances
    assert deployment.peer_certificate("suspendme.localhost")  # still served over HTTPS: its page says why


def _browser_clear_of_its_window_edge(deployment: Deployment, host: str, period: int = 3600) -> Browser:
    """A browser whose request-limit window does not end in the next minute. django-ratelimit ends each
    client's window at its own offset in the period (crc32 of the key, here the address): a count that ran
    across it would start again at 0. The instances' clocks cannot be stopped from here."""
    while True:
        browser = deployment.browser(host)
        edge = zlib.crc32(browser.source.encode()) % period
        if (edge - int(time.time())) % period > 60:
            return browser


def test_the_request_limit_is_one_count_across_both_instances(deployment):
    browser = _browser_clear_of_its_window_edge(deployment, "localhost")
    tag = uuid.uuid4().hex[:8]
    statuses = [browser.get("/terms/", **{"X-Request-ID": f"rl-{tag}-{n}"}).status_code for n in range(25)]
    assert statuses == [200] * RATE_LIMIT + [429] * 5, statuses
    first, second = deployment.served_by({f"rl-{tag}-{n}" for n in range(RATE_LIMIT)})
    assert len(first) >= 5 and len(second) >= 5, (first, second)
    spoofed = browser.get("/terms/", **{"X-Forwarded-For": "203.0.113.9"})
    assert spoofed.status_code == 429  # Caddy discards a client's own X-Forwarded-For
    assert deployment.browser("localhost").get("/terms/").status_code == 200  # another client is not counted


def test_health_through_caddy_and_one_instance_stopping(deployment):
    browser = deployment.browser("localhost")
    health = browser.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    for log in deployment.access_logs(lambda lines: False, timeout=0):  # Caddy's active checks, every 5 s
        probes = [line for line in log if line["path"] == "/readyz" and line["user_agent"].startswith("Go-http")]
        assert probes and all(line["status"] == 200 for line in probes)

    deployment.instances[0].stop()
    statuses = [browser.get("/terms/").status_code for _ in range(10)]
    assert statuses == [200] * 10, statuses
    # New workspaces still get their certificate: the ask goes through Caddy to the remaining instance.
    late = sign_up(deployment, "late")
    assert late.get("/").status_code == 200
    assert deployment.peer_certificate("late.localhost")["subjectAltName"] == (("DNS", "late.localhost"),)
