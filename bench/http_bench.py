"""Throughput of the real server: requests per second and latency of four pages under wrk.

(Not bench/http.py: every bench script puts bench/ first on Python's path, where a module named http would
hide the standard library's http package from Django.)

    python bench/http_bench.py [--seconds 10] [--workspaces 200] [--reuse]

Needs wrk (`apt-get install -y wrk`). Runs against its own database, `portal_bench_http`, on the server
of DATABASE_URL (or the embedded one): the first run migrates it (about half a minute);
--reuse keeps the previous run's database and workspaces. It makes one workspace with an owner (`bench`)
and --workspaces others, so the host routing has a realistic table to look in, then starts gunicorn with
2 workers on a loopback port (settings: bench/server.py; APP_ENV=development with DEBUG off, because
production mode refuses a local domain over plain HTTP), logs in as the owner and checks that each page
answers 200. Then, for each page in turn, wrk with 8 connections on 2 threads for --seconds:

- static: /static/css/portal.css (WhiteNoise answers before any middleware touches the database);
- terms: /terms/ on the public host (a template, no session);
- login page: /login/ on the workspace's host, anonymous (host routing, a CSRF cookie, the form);
- dashboard: / on the workspace's host with the owner's session cookie (routing, the cached session,
  the user, the workspace's state, the page).

It prints req/s, p50 and p99 latency, the responses that were not 2xx, and each page's req/s as a share of
the static file's in the same run (what the Django stack costs on this machine). wrk, gunicorn and
PostgreSQL share the machine's cores, so the figures compare pages, not servers.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server  # noqa: E402

BENCH_DB = "portal_bench_http"
CONNECTIONS = 8
THREADS = 2

# wrk's own "Non-2xx or 3xx" counts only >= 400; this counts every answer outside 2xx, over all threads.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do non2xx = non2xx + thread:get("non2xx") end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), non2xx, errors))
end
"""


def wrk(url: str, *, host: str, cookie: dict | None, seconds: int, script: Path, log: Path) -> dict:
    command = ["wrk", "--latency", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s"]
    command += ["--timeout", "10s", "-s", str(script), "-H", f"Host: {host}"]
    if cookie:
        command += ["-H", "Cookie: " + "; ".join(f"{name}={value}" for name, value in cookie.items())]
    result = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60, check=True)
    with open(log, "a") as out:
        out.write(f"$ {' '.join(command)} {url}\n{result.stdout}{result.stderr}\n")
    found = re.search(r"^BENCH (.*)$", result.stdout, re.MULTILINE)
    if not found:
        raise RuntimeError(f"no summary from wrk:\n{result.stdout}\n{result.stderr}")
    values = {key: int(value) for key, value in (item.split("=") for item in found.group(1).split())}
    values["rps"] = values["requests"] / (values["duration_us"] / 1e6)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per page (default 10)")
    parser.add_argument("--workspaces", type=int, default=200, help="other workspaces besides the measured one")
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's database and workspaces")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk (macOS)")

    server.database_prepare(name=BENCH_DB, reset=not args.reuse)
    workspace = server.workspace_ensure("bench")
    server.workspaces_fill(args.workspaces)

    with server.Server() as web:
        public_host = web.public_host
        workspace_host = f"{workspace['host']}:{web.port}"
        cookies = web.login(workspace_host, workspace["owner"])
        session = {"sessionid": cookies["sessionid"]}
        pages = [
            ("static /static/css/portal.css", "/static/css/portal.css", public_host, None),
            ("terms /terms/ (public host)", "/terms/", public_host, None),
            ("workspace login page /login/", "/login/", workspace_host, None),
            ("dashboard / (logged in)", "/", workspace_host, session),
        ]
        for name, path, host, cookie in pages:
            status, _, body = web.request("GET", path, host=host, cookies=cookie)
            if status != 200 or (path == "/" and "Log out" not in body):
                sys.exit(f"{name}: answered {status} before the run (expected 200, logged in where it applies)")

        script = web.log_dir / "count.lua"
        script.write_text(WRK_SCRIPT)
        log = web.log_dir / "wrk.log"
        print(f"wrk: {CONNECTIONS} connections, {THREADS} threads, {args.seconds} s per page (output in {log})")
        results = []
        for name, path, host, cookie in pages:
            result = wrk(web.url(path), host=host, cookie=cookie, seconds=args.seconds, script=script, log=log)
            results.append((name, result))
            print(f"  {name}: {result['rps']:.0f} req/s", flush=True)

    static_rps = results[0][1]["rps"]
    print()
    print("| page | req/s | p50 ms | p99 ms | non-2xx | vs static |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results:
        print(
            f"| {name} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} "
            f"| {r['non2xx']} | {r['rps'] / static_rps:.2f} |"
        )
    errors = sum(r["socket_errors"] for _, r in results)
    print(f"\n{CONNECTIONS} connections, {THREADS} wrk threads, {args.seconds} s per page; gunicorn 2 sync workers")
    if errors or any(r["non2xx"] for _, r in results):
        print(f"socket errors: {errors}; see {web.log_dir}")
        sys.exit(1)


if __name__ == "__main__":
    main()
