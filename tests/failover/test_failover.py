"""Failover with real servers, under load: gunicorn (2 workers) on the session's PostgreSQL and Redis of our
own (tests/support/stack.py).

PostgreSQL stops (fast shutdown) for a few seconds and starts again: no answer is a 5xx other than 503,
every 503 carries Retry-After, the same gunicorn processes serve 200s again within seconds, and every
signup attempted is all or nothing. Then Redis stops: pages keep working, login and password reset are
refused cleanly (503), signup goes ahead; Redis starts again and login works.

Not part of `make test` (marker "failover", deselected by default): `make test-failover`. Runnable as a
script for a timeline table: `.venv/bin/python -m tests.failover.test_failover`.
"""

import itertools
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests

from tests.support.servers import Gunicorn
from tests.support.stack import PASSWORD, Client, Stack, signup_data

pytestmark = pytest.mark.failover

# Not "acme": the deploy suite signs that one up, and both may run on one stack.
WORKSPACE = "steady"
OWNER = "owner@steady.test"
OUTAGE_SECONDS = 4
RECOVERY_LIMIT_SECONDS = 5


@dataclass
class Result:
    at: float  # seconds since the load started
    kind: str
    status: int | None  # None: no HTTP answer at all (connection refused or reset, timeout)
    retry_after: str | None = None
    error: str = ""
    subdomain: str = ""


class Portal:
    """The portal under gunicorn (2 workers) on the session's stack; `stop()` stops it."""

    def __init__(self, stack: Stack):
        self.postgres, self.redis = stack.postgres, stack.redis
        self.gunicorn = Gunicorn(stack.root, stack.env(), workers=2)
        try:
            self.gunicorn.start()
        except BaseException:
            self.gunicorn.stop()
            raise
        self.base = f"http://127.0.0.1:{self.gunicorn.port}"

    def stop(self) -> None:
        self.gunicorn.stop()

    def processes(self) -> set[int]:
        return {self.gunicorn.process.pid, *self.gunicorn.worker_pids()}

    def client(self, host: str) -> "Client":
        return Client(self.base, host)


def log_in(portal: Portal, host: str = f"{WORKSPACE}.localhost") -> Client:
    client = portal.client(host)
    response = client.post_form("/login/", {"username": OWNER, "password": PASSWORD})
    assert response.status_code == 302, response.text[:500]
    return client


class Load:
    """A few threads issuing requests continuously, each recording every answer."""

    def __init__(self, portal: Portal):
        self.portal = portal
        self.results: list[Result] = []
        self.signups: dict[str, int | None] = {}  # subdomain posted -> the answer's status
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._numbers = itertools.count(1)
        self._tag = secrets.token_hex(3)
        self.started = time.monotonic()
        dashboard = log_in(portal)
        self._workers = [
            ("dashboard", dashboard, lambda c: c.get("/"), 200),
            ("login page", portal.client(f"{WORKSPACE}.localhost"), lambda c: c.get("/login/"), 200),
            ("landing", portal.client("localhost"), lambda c: c.get("/"), 200),
            ("signup", portal.client("localhost"), self._signup, 302),
        ]
        self._threads = [threading.Thread(target=self._run, args=worker, daemon=True) for worker in self._workers]

    def _signup(self, client: Client) -> requests.Response:
        subdomain = f"fo-{self._tag}-{next(self._numbers)}"
        with self._lock:
            self.signups[subdomain] = None
        response = client.post_form("/signup/", signup_data(subdomain))
        with self._lock:
            self.signups[subdomain] = response.status_code
        response.subdomain = subdomain
        return response

    def _run(self, kind: str, client: Client, call, ok: int) -> None:
        while not self._stop.is_set():
            at = time.monotonic() - self.started
            try:
                response = call(client)
            except requests.RequestException as error:
                self._record(Result(at, kind, None, error=repr(error)))
                time.sleep(0.05)
                continue
            self._record(
                Result(
                    at,
                    kind,
                    response.status_code,
                    response.headers.get("Retry-After"),
                    "",
                    getattr(response, "subdomain", ""),
                )
            )
            if response.status_code != ok:
                time.sleep(0.05)  # a browser would not hammer an error either

    def _record(self, result: Result) -> None:
        with self._lock:
            self.results.append(result)

    def now(self) -> float:
        return time.monotonic() - self.started

    def start(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=20)

    def ok_again_at(self, kind: str, since: float) -> float | None:
        """When `kind` first answered as it should after `since` (None: not yet)."""
        ok = {"signup": 302}.get(kind, 200)
        with self._lock:
            times = [r.at for r in self.results if r.kind == kind and r.at >= since and r.status == ok]
        return min(times) if times else None


@dataclass
class Outage:
    load: Load
    down_at: float
    up_at: float
    recovered: dict[str, float] = field(default_factory=dict)  # kind -> seconds after the restart
    processes_before: set[int] = field(default_factory=set)
    processes_after: set[int] = field(default_factory=set)


def database_outage(portal: Portal, *, seconds: float = OUTAGE_SECONDS) -> Outage:
    """Load for 2 s, PostgreSQL down for `seconds`, up again; load until every kind of request succeeds
    again (or RECOVERY_LIMIT_SECONDS pass), then 1 s more."""
    processes_before = portal.processes()
    load = Load(portal).start()
    try:
        time.sleep(2)
        down_at = load.now()
        portal.postgres.stop("fast")
        time.sleep(seconds)
        portal.postgres.start()
        up_at = load.now()
        kinds = [worker[0] for worker in load._workers]
        deadline = time.monotonic() + RECOVERY_LIMIT_SECONDS + 5
        recovered: dict[str, float] = {}
        while time.monotonic() < deadline and len(recovered) < len(kinds):
            for kind in kinds:
                at = load.ok_again_at(kind, up_at)
                if at is not None:
                    recovered[kind] = at - up_at
            time.sleep(0.1)
        time.sleep(1)
    finally:
        load.stop()
    return Outage(load, down_at, up_at, recovered, processes_before, portal.processes())


def timeline(outage: Outage) -> str:
    rows = ["   s  requests   200/302   503  other"]
    buckets: dict[int, Counter] = {}
    for result in outage.load.results:
        counter = buckets.setdefault(int(result.at), Counter())
        counter["requests"] += 1
        if result.status in (200, 302):
            counter["ok"] += 1
        elif result.status == 503:
            counter["503"] += 1
        else:
            counter["other"] += 1
    for second in sorted(buckets):
        c = buckets[second]
        mark = ""
        if second == int(outage.down_at):
            mark = "  <- PostgreSQL stopped"
        elif second == int(outage.up_at):
            mark = "  <- PostgreSQL started"
        rows.append(f"{second:4d}  {c['requests']:8d}  {c['ok']:8d}  {c['503']:4d}  {c['other']:5d}{mark}")
    return "\n".join(rows)


def signups_all_or_nothing(portal: Portal, subdomains: dict[str, int | None]) -> Counter:
    """For each subdomain posted: no workspace at all, or the whole of it. Spares are untouched spares."""
    outcome = Counter()
    with portal.postgres.connect() as db:
        schemas = {row[0] for row in db.execute("SELECT nspname FROM pg_namespace")}
        for subdomain, status in subdomains.items():
            row = db.execute(
                "SELECT id, schema_name, kind FROM tenants_tenant WHERE subdomain = %s", [subdomain]
            ).fetchone()
            if row is None:
                assert status != 302, f"{subdomain}: signup answered 302 but no workspace exists"
                outcome["absent"] += 1
                continue
            tenant_id, schema, kind = row
            assert kind == "workspace", (subdomain, kind)
            domains = db.execute("SELECT domain FROM tenants_domain WHERE tenant_id = %s", [tenant_id]).fetchall()
            assert domains == [(f"{subdomain}.localhost",)], (subdomain, domains)
            assert schema in schemas, f"{subdomain}: schema {schema} missing"
            owners = db.execute(f'SELECT email, role FROM "{schema}".accounts_user').fetchall()
            assert owners == [(f"owner@{subdomain}.test", "owner")], (subdomain, owners)
            outcome["complete"] += 1
        spares = db.execute("SELECT id, schema_name, subdomain FROM tenants_tenant WHERE kind = 'spare'").fetchall()
        for tenant_id, schema, subdomain in spares:
            assert subdomain is None, (schema, subdomain)
            assert not db.execute("SELECT 1 FROM tenants_domain WHERE tenant_id = %s", [tenant_id]).fetchall()
            assert schema in schemas
            assert db.execute(f'SELECT count(*) FROM "{schema}".accounts_user').fetchone() == (0,)
    return outcome


@pytest.fixture(scope="module")
def portal(stack):
    """gunicorn on the session's stack, with the owner of WORKSPACE signed up."""
    stack.up()
    servers = Portal(stack)
    try:
        owner = servers.client("localhost").post_form("/signup/", {**signup_data(WORKSPACE), "email": OWNER})
        assert owner.status_code == 302, owner.text[:500]
        yield servers
    finally:
        servers.stop()
        stack.up()  # for whatever runs next on the stack, should a test have left a server down


def test_database_outage_answers_503_and_recovers(portal):
    outage = database_outage(portal)
    results = outage.load.results
    print("\n" + timeline(outage))
    statuses = Counter(result.status for result in results)
    no_answer = [r for r in results if r.status is None]
    assert not no_answer, no_answer[:5]
    bad = [r for r in results if r.status >= 500 and r.status != 503]
    assert not bad, bad[:5]
    assert all(r.retry_after and int(r.retry_after) > 0 for r in results if r.status == 503)
    during = [r for r in results if outage.down_at <= r.at <= outage.up_at]
    assert sum(r.status == 503 for r in during) > 0, statuses
    expected = {"dashboard", "login page", "landing", "signup"}
    assert set(outage.recovered) == expected, outage.recovered
    assert max(outage.recovered.values()) <= RECOVERY_LIMIT_SECONDS, outage.recovered
    assert outage.processes_after == outage.processes_before  # recovered without a restart
    assert portal.client("localhost").get("/").status_code == 200
    outcome = signups_all_or_nothing(portal, outage.load.signups)
    print(f"answers: {dict(statuses)}; signups: {dict(outcome)}; recovered after: {outage.recovered}")
    assert outcome["complete"] > 0


def test_redis_outage_keeps_pages_and_fails_login_closed(portal):
    owner = log_in(portal)
    processes = portal.processes()
    portal.redis.stop()
    try:
        assert owner.get("/").status_code == 200  # the session from its table
        workspace, public = portal.client(f"{WORKSPACE}.localhost"), portal.client("localhost")
        assert workspace.get("/login/").status_code == 200
        for path in ("/", "/terms/", "/signup/"):
            assert public.get(path).status_code == 200, path
        refused = workspace.post_form("/login/", {"username": OWNER, "password": PASSWORD})
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
        assert "try again" in refused.text and "sessionid" not in refused.cookies
        reset = workspace.post_form("/password-reset/", {"email": OWNER})
        assert reset.status_code == 503 and int(reset.headers["Retry-After"]) > 0
        signup = public.post_form("/signup/", signup_data(f"redis-down-{secrets.token_hex(3)}"))
        assert signup.status_code == 302  # signup limits fail open
        assert [public.get("/terms/").status_code for _ in range(20)] == [200] * 20  # global limit fails open
    finally:
        portal.redis.start()
    assert log_in(portal).get("/").status_code == 200
    assert portal.processes() == processes


if __name__ == "__main__":
    started = time.monotonic()
    stack = Stack()
    try:
        servers = Portal(stack)
        try:
            servers.client("localhost").post_form("/signup/", {**signup_data(WORKSPACE), "email": OWNER})
            result = database_outage(servers)
            print(timeline(result))
            print(f"recovered after (s): { {kind: round(s, 2) for kind, s in result.recovered.items()} }")
            print(f"same gunicorn processes: {result.processes_after == result.processes_before}")
            print(f"signups: {dict(signups_all_or_nothing(servers, result.load.signups))}")
            print(f"total {time.monotonic() - started:.1f} s")
        finally:
            servers.stop()
    finally:
        stack.close()
