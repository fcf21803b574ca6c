"""Real servers for the failover test, each in a temporary directory and on a free loopback port:
PostgreSQL (the binaries pgserver ships), Redis (`redis-server`) and the portal under gunicorn."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "failover correct horse 42"


def wait_for_port(port: int, *, timeout: float, up: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            listening = probe.connect_ex(("127.0.0.1", port)) == 0
        if listening == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {timeout} s")


def process_stop(process: subprocess.Popen | None) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if it has not exited within 10 s."""
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Postgres:
    """initdb + pg_ctl. As root, PostgreSQL runs as pgserver's own system user (it refuses root)."""

    def __init__(self, root: Path):
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.user = "pgserver" if os.geteuid() == 0 else None

    def _run(self, name: str, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(self.bin / name), "-D", str(self.data), *args],
            check=True,
            user=self.user,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self.data.mkdir()
        self.log.touch()
        if self.user:
            from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists(self.user)
            ensure_prefix_permissions(self.bin)
            ensure_folder_permissions(self.bin.parent, 0)
            self.root.chmod(0o755)
            for path in (self.data, self.log):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = ''\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "-w", "-t", "30", "-l", str(self.log), "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-w", "-t", "30", "-m", mode, "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "portal") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True)

    def create_database(self, name: str) -> None:
        with self.connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def cleanup(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except Exception:  # cleaning up after a failure: keep going
                pass


class Redis:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with open(self.root / "redis.log", "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        wait_for_port(self.port, timeout=10, up=False)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    cleanup = stop


def portal_env(postgres: Postgres, redis: Redis, **extra: str) -> dict:
    """The portal's environment: test mode, DEBUG off, limits high."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        APP_ENV="test",
        DEBUG="false",
        SECRET_KEY="failover-test-" + "k" * 50,
        DATABASE_URL=postgres.url("portal"),
        REDIS_URL=redis.url(),
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


class Gunicorn:
    def __init__(self, root: Path, env: dict, workers: int = 2, name: str = "gunicorn"):
        self.root = root
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = root / f"{name}.log"

    def command(self) -> list[str]:
        return [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "3",
            "--no-control-socket",
        ]

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, timeout=30)
        deadline = time.monotonic() + 30
        while len(self.worker_pids()) < self.workers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"gunicorn did not boot {self.workers} workers; see {self.log}")
            time.sleep(0.1)

    def worker_pids(self) -> set[int]:
        """The master's children (the workers), read from /proc."""
        pids = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.add(int(entry.name))
        return pids

    def stop(self) -> None:
        process_stop(self.process)
        self.process = None

    cleanup = stop


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
