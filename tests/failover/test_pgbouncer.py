"""The portal behind PgBouncer in session pooling (the mode docs/scaling.md supports): two workspaces
browsed at the same time through a pool of two server connections, connections closed after every
request (CONN_MAX_AGE=0) so each request takes whichever server connection is free. Every page shows
its own workspace and never the other's: the session reset (DISCARD ALL) and django-tenants' SET
search_path at the start of each request keep the schemas apart.

Needs Debian's pgbouncer (`.ci/run` installs it); part of `make test-failover`."""

import shutil
import subprocess
import threading
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.servers import Gunicorn, Postgres, wait_for_port
from tests.support.stack import PASSWORD, Client, signup_data

pytestmark = [
    pytest.mark.failover,
    pytest.mark.skipif(not shutil.which("pgbouncer"), reason="pgbouncer is not installed (apt-get install pgbouncer)"),
]


class PgBouncer:
    def __init__(self, root: Path, postgres: Postgres, *, pool_size: int):
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.config = root / "pgbouncer.ini"
        self.config.write_text(
            "[databases]\n"
            f"portal = host=127.0.0.1 port={postgres.port} dbname=portal\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {root / 'users.txt'}\n"
            f"pool_mode = session\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
            "server_reset_query = DISCARD ALL\nignore_startup_parameters = extra_float_digits,options\n"
        )
        (root / "users.txt").write_text('"postgres" ""\n')
        self.user = postgres.user  # PgBouncer refuses to run as root, like PostgreSQL

    def start(self) -> None:
        for path in (self.config, self.root / "users.txt"):
            path.chmod(0o644)
        log = open(self.root / "pgbouncer.log", "ab")
        self.process = subprocess.Popen(
            ["pgbouncer", str(self.config)], user=self.user, stdout=log, stderr=subprocess.STDOUT
        )
        wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def pooled(stack):
    """gunicorn on the session's stack, through PgBouncer with a pool of two server connections; yields its
    base URL. The stack's database was bootstrapped straight on PostgreSQL (DDL), as a deployment would."""
    stack.up()
    with ExitStack() as started:
        bouncer = PgBouncer(stack.root, stack.postgres, pool_size=2)
        started.callback(bouncer.stop)
        bouncer.start()
        env = stack.env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{bouncer.port}/portal", CONN_MAX_AGE="0", SCHEMA_POOL_SIZE="3"
        )
        gunicorn = Gunicorn(stack.root, env, workers=2, name="gunicorn-pgbouncer")
        started.callback(gunicorn.stop)
        gunicorn.start()
        yield f"http://127.0.0.1:{gunicorn.port}"


def test_two_workspaces_through_session_pooling_never_see_each_other(pooled):
    clients = {}
    for name in ("north", "south"):
        public = Client(pooled, "localhost")
        assert public.post_form("/signup/", signup_data(name)).status_code == 302
        client = Client(pooled, f"{name}.localhost")
        assert client.post_form("/login/", {"username": f"owner@{name}.test", "password": PASSWORD}).status_code == 302
        clients[name] = client

    problems = []

    def browse(own: str, other: str) -> None:
        for _ in range(60):
            for path in ("/", "/team/"):
                response = clients[own].get(path)
                body = response.text
                if response.status_code != 200 or f"Shop {own}" not in body or f"Shop {other}" in body:
                    problems.append((own, path, response.status_code))
                if path == "/team/" and (f"owner@{own}.test" not in body or f"owner@{other}.test" in body):
                    problems.append((own, path, "members"))

    threads = [
        threading.Thread(target=browse, args=("north", "south")),
        threading.Thread(target=browse, args=("south", "north")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert problems == []
