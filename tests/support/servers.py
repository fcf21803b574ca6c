"""Real portal processes (gunicorn) for tests that need more than one process: started against the test
database and the tests' Redis, stopped afterwards."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from django.db import connection

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_servers() -> str:
    """The committed test database, as a URL the server processes can read."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def portal_processes(count: int, **env):
    """`count` gunicorn processes (one worker each) on free loopback ports; yields their base URLs."""
    environment = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url_for_servers(),
        "LOG_LEVEL": "WARNING",
        **env,
    }
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
            processes.append(subprocess.Popen(command, cwd=ROOT, env=environment, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            _wait_until_up(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def _wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{url}/static/css/portal.css", timeout=2)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
