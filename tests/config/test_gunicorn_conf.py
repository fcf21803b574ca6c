"""gunicorn.conf.py as the Procfile runs it: the access log is one JSON object per request, tokens in the
URL scrubbed, a hostile user agent escaped."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.ports import free_port
from tests.support.servers import database_url_for_servers

ROOT = Path(__file__).resolve().parents[2]


def access_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{"event": "http"')]


def test_access_log_is_json_and_scrubbed(tmp_path, django_db_setup):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url_for_servers(),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "TRUSTED_PROXIES": "10.0.0.0/8",
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        requests.get(
            f"http://127.0.0.1:{port}/healthz?token=s3cret-handoff-token&x=1",
            headers={"User-Agent": 'evil "agent" \\ {', "X-Request-ID": "req-42", "Host": "acme.localhost"},
            timeout=5,
        )
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(10)
    lines = access_lines(log)
    line = next(entry for entry in lines if entry["request_id"] == "req-42")
    assert line["path"] == "/healthz" and line["status"] == 200 and line["method"] == "GET"
    assert line["query"] == "token=[scrubbed]&x=1"
    assert line["user_agent"] == 'evil "agent" \\ {'
    assert line["host"] == "acme.localhost" and line["remote"] == "127.0.0.1"
    assert isinstance(line["duration_ms"], int)
    assert line["level"] == "info" and line["timestamp"].endswith("Z")  # shaped like the app's lines
    assert "s3cret" not in log.read_text()
