"""A newcomer's first `make run`: a fresh clone of this repository's committed HEAD, timed until the site
answers, then stopped. Prints one table row per run (seconds) and removes the clone.

    python3 bench/first_run.py [--runs 2] [--port 8123]

Nothing is set but PORT: no DATABASE_URL, so `make run` starts the embedded PostgreSQL under the clone's
.data/. pip's cache is whatever this machine has (warm after any earlier install). Target: <= 90 s
(docs/performance.md, "First run"). Needs only Python 3.11+, git and make.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 600


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _load() -> float:
    return os.getloadavg()[0]


def one_run(port: int) -> dict:
    clone = Path(tempfile.mkdtemp(prefix="firstrun-"))
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "DJANGO_"))}
        env.update(PORT=str(port), APP_ENV="development")
        log = clone / "make-run.log"
        started = time.monotonic()
        with log.open("w") as output:
            make = subprocess.Popen(
                ["make", "run"], cwd=clone, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
            marks = {}
            try:
                while time.monotonic() - started < TIMEOUT:
                    text = log.read_text()
                    if "installed" not in marks and "manage.py bootstrap" in text:
                        marks["installed"] = time.monotonic() - started
                    if "bootstrapped" not in marks and "Serving http://" in text:
                        marks["bootstrapped"] = time.monotonic() - started
                    if _answers(f"http://localhost:{port}/"):
                        marks["answered"] = time.monotonic() - started
                        break
                    if make.poll() is not None:
                        raise RuntimeError(f"make run exited with {make.returncode}:\n{text[-2000:]}")
                    time.sleep(0.25)
                else:
                    raise RuntimeError(f"no answer within {TIMEOUT} s:\n{log.read_text()[-2000:]}")
            finally:
                os.killpg(make.pid, signal.SIGTERM)
                try:
                    make.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(make.pid, signal.SIGKILL)
                    make.wait()
                subprocess.run(["pkill", "-f", re.escape(str(clone))], check=False)
        return {**marks, "load": _load()}
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    print(f"First `make run` of a fresh clone of {commit.stdout.strip()} (seconds from `make run`)")
    print("| run | install (venv + requirements-run.txt) | + bootstrap --demo | site answers | load |")
    print("|---:|---:|---:|---:|---:|")
    for number in range(1, args.runs + 1):
        run = one_run(args.port)
        print(
            f"| {number} | {run.get('installed', 0):.1f} | {run.get('bootstrapped', 0):.1f} | "
            f"**{run['answered']:.1f}** | {run['load']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
