"""Load test: a realistic mix of visitors and workspace users under Locust, at 8, 32 and 64 users.

    python bench/load.py [--seconds 60] [--users 8 32 64] [--reuse]
    python bench/load.py --soak [--minutes 10]

Needs Locust (requirements-bench.txt; `make bench-load` installs it). Runs against its own database,
`portal_bench_load`, on the server of DATABASE_URL (or the embedded one): the first run migrates it
(about half a minute); --reuse keeps the previous run's database and workspaces. It makes --workspaces
workspaces (load0, load1, ...) each with an owner and 6 members, --others more so that host routing has a
realistic table, and a pool of spare schemas for the signups of the run (no queue worker refills it; once it
is empty, a signup copies the template itself, as it would with a stalled worker). Then it starts gunicorn
with 2 workers on a loopback port (bench/server.py: APP_ENV=development with DEBUG off, Redis, throttles out
of reach), checks that the pages answer, and runs Locust headless on bench/locustfile.py for --seconds at
each number of users in turn (all users started at once, each waiting 0.5 to 1.5 s between tasks):

- visitors (3 in 10 users): landing page and stylesheet, signup form, terms; one task in 37 a real signup
  with a fresh address, the hand-off into the new workspace and its dashboard;
- members (5 in 10): log in, then the dashboard, their account page, /api/v1/me and /api/v1/workspace;
  now and then log out and in again;
- owners (2 in 10): log in, then the dashboard, team, billing, /api/v1/workspace and /api/v1/members;
  now and then log out and in again.

It prints one table per level: each request's count, rate, p50/p95/p99 latency (Locust's, which rounds to
2 significant digits), failures (a status other than the expected one, or no answer) and 5xx answers; the
5xx tracebacks from gunicorn's log follow the table. It exits non-zero if any request failed or answered 5xx.

--soak runs 32 users for --minutes (default 10) instead and reports each gunicorn worker's resident memory
(RSS) before the load, once warm (after the first tenth of the run) and at the end, against the targets:
at most 150 MB per worker and at most 10% growth from warm to the end. Each of these is the lowest of five
reads in half a second, since a login's Argon2 hash holds about 100 MB for a moment; the highest read of
the whole run (every 0.5 s) is shown beside them.

Locust, gunicorn and PostgreSQL share this machine's cores: the figures show how the portal behaves as
load rises on one small machine, not a server's capacity.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server  # noqa: E402

BENCH_DB = "portal_bench_load"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
MEMBERS = 6
THINK_SECONDS = (0.5, 1.5)
RSS_TARGET_MB = 150
RSS_GROWTH_TARGET = 0.10


def run_locust(web: server.Server, plan: Path, *, users: int, seconds: int) -> tuple[list[dict], list[dict], dict]:
    """Locust headless at `users` for `seconds`: (its stats rows, its failure rows, our 5xx report)."""
    prefix = web.log_dir / f"locust-{users}"
    report = web.log_dir / f"report-{users}.json"
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary"]
    command += ["-u", str(users), "-r", str(users), "--run-time", f"{seconds}s", "--stop-timeout", "10"]
    command += ["--host", web.url(""), "--csv", str(prefix), "--loglevel", "WARNING"]
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan), "BENCH_LOAD_REPORT": str(report)}
    with open(f"{prefix}.log", "w") as log:
        # Locust exits 1 when a request failed; the stats say which, so its code is not an error here.
        subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 120)
    if not report.exists():
        sys.exit(f"Locust did not finish; its log, {prefix}.log:\n{Path(f'{prefix}.log').read_text()[-3000:]}")
    with open(f"{prefix}_stats.csv") as stats, open(f"{prefix}_failures.csv") as failures:
        return list(csv.DictReader(stats)), list(csv.DictReader(failures)), json.loads(report.read_text())


def print_table(users: int, seconds: int, stats: list[dict], failures: list[dict], report: dict) -> None:
    errors = report["server_errors"]
    print(f"\n### {users} users, {seconds} s\n")
    print("| page | requests | rps | p50 ms | p95 ms | p99 ms | failures | 5xx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in stats:
        aggregated = row["Name"] == "Aggregated"
        name = "**all**" if aggregated else row["Name"]
        fives = sum(errors.values()) if aggregated else errors.get(f"{row['Type']} {row['Name']}", 0)
        print(
            f"| {name} | {int(row['Request Count']):,} | {float(row['Requests/s']):.1f} | {row['50%']} "
            f"| {row['95%']} | {row['99%']} | {row['Failure Count']} | {fives} |"
        )
    for failure in failures:
        print(f"- failure: {failure['Method']} {failure['Name']}: {failure['Error']} ({failure['Occurrences']}x)")


def server_errors_since(web: server.Server, offset: int) -> str:
    """The errors gunicorn logged since `offset` (Django logs each 500 with its traceback at ERROR)."""
    text = web.log_path.read_text(errors="replace")[offset:]
    lines = [
        line for line in text.splitlines() if "UserWarning: No directory at" not in line and "mw_instance" not in line
    ]
    return "\n".join(line for line in lines if "[INFO]" not in line)


def pages_check(web: server.Server, workspace: dict) -> None:
    """Before the load: each page the users visit answers 200 for the right person."""
    host = f"{workspace['host']}:{web.port}"
    checks = [(web.public_host, None, path) for path in ("/", "/signup/", "/terms/", "/static/css/portal.css")]
    owner = web.login(host, workspace["owner"])
    checks += [(host, owner, path) for path in ("/", "/team/", "/billing/", "/api/v1/workspace", "/api/v1/members")]
    member = web.login(host, workspace["members"][0])
    checks += [(host, member, path) for path in ("/", "/account/", "/api/v1/me", "/api/v1/workspace")]
    for host, cookies, path in checks:
        status, _, _ = web.request("GET", path, host=host, cookies=cookies)
        if status != 200:
            sys.exit(f"GET {path} on {host} answered {status} before the load (expected 200)")


def rss_settled(web: server.Server, reads: int = 5) -> dict[int, float]:
    """Each worker's RSS, the lowest of a few reads 0.1 s apart: a login's Argon2 hash holds ~100 MB for a
    moment (Django's memory_cost), which a single read may catch; a leak shows in the lowest read too."""
    lowest: dict[int, float] = {}
    for _ in range(reads):
        for pid, mb in web.worker_rss_mb().items():
            lowest[pid] = min(mb, lowest.get(pid, mb))
        time.sleep(0.1)
    return lowest


class RssSampler(threading.Thread):
    """Each gunicorn worker's settled RSS every `interval` seconds while the soak runs, and the highest read."""

    def __init__(self, web: server.Server, interval: float):
        super().__init__(daemon=True)
        self.web, self.interval = web, interval
        self.samples: list[tuple[float, dict[int, float]]] = []
        self.peak: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        next_sample = self.interval
        while not self.done.wait(0.5):
            for pid, mb in self.web.worker_rss_mb().items():
                self.peak[pid] = max(mb, self.peak.get(pid, mb))
            if time.monotonic() - started >= next_sample:
                self.samples.append((time.monotonic() - started, rss_settled(self.web)))
                next_sample += self.interval


def soak_report(boot: dict, warm: dict, end: dict, peak: dict, warm_at: float) -> bool:
    print(f"\n### Worker memory (RSS; settled: lowest of 5 reads in 0.5 s), warm = after {warm_at:.0f} s of load\n")
    print("| worker pid | before load MB | warm MB | end MB | growth warm to end | highest read MB |")
    print("|---|---:|---:|---:|---:|---:|")
    ok = set(boot) == set(end)
    for pid in sorted(set(boot) | set(end)):
        before, then, after = boot.get(pid), warm.get(pid), end.get(pid)
        growth = (after - then) / then if then and after else None
        cells = [f"{value:.1f}" if value else "gone" for value in (before, then, after)]
        highest = f"{peak[pid]:.1f}" if pid in peak else "-"
        print(f"| {pid} | {' | '.join(cells)} | {f'{growth:+.1%}' if growth is not None else '-'} | {highest} |")
        ok = ok and after is not None and after <= RSS_TARGET_MB and growth is not None and growth <= RSS_GROWTH_TARGET
    verdict = "met" if ok else "NOT met"
    print(f"\nTargets (settled RSS): <= {RSS_TARGET_MB} MB per worker, growth <= {RSS_GROWTH_TARGET:.0%}: {verdict}")
    if any(mb > RSS_TARGET_MB for mb in peak.values()):
        print(f"The highest reads pass {RSS_TARGET_MB} MB for a moment: a login's Argon2 hash (about 100 MB).")
    if set(boot) != set(end):
        print("A worker was replaced during the run (gunicorn restarts a worker that dies or times out).")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[8, 32, 64], help="the levels, in order")
    parser.add_argument("--seconds", type=int, default=60, help="how long each level runs (default 60)")
    parser.add_argument("--soak", action="store_true", help="32 users for --minutes, with the workers' memory")
    parser.add_argument("--minutes", type=float, default=10, help="the soak's duration (default 10)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="a level stops early past this many")
    parser.add_argument("--workspaces", type=int, default=10, help="workspaces the users log in to")
    parser.add_argument("--others", type=int, default=200, help="other workspaces, for routing")
    parser.add_argument("--spares", type=int, default=60, help="spare schemas ready for the run's signups")
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's database and workspaces")
    args = parser.parse_args()
    levels = [(32, round(args.minutes * 60))] if args.soak else [(users, args.seconds) for users in args.users]

    server.database_prepare(name=BENCH_DB, reset=not args.reuse)
    from tenants.schemas import pool

    workspaces = [server.workspace_ensure(f"load{number}", members=MEMBERS) for number in range(args.workspaces)]
    server.workspaces_fill(args.others)
    print(f"  {pool.pool_fill(size=args.spares)} spare schemas made, {args.spares} ready", flush=True)

    ok = True
    with server.Server() as web:
        pages_check(web, workspaces[0])
        plan = web.log_dir / "plan.json"
        plan.write_text(
            json.dumps(
                {
                    "public_host": web.public_host,
                    "workspaces": [
                        {"host": f"{w['host']}:{web.port}", "owners": [w["owner"]], "members": w["members"]}
                        for w in workspaces
                    ],
                    "password": server.PASSWORD,
                    "wait_min": THINK_SECONDS[0],
                    "wait_max": THINK_SECONDS[1],
                    "max_requests": args.max_requests,
                }
            )
        )
        print(f"Locust: {' then '.join(f'{u} users for {s} s' for u, s in levels)} (logs in {web.log_dir})")
        for users, seconds in levels:
            offset = len(web.log_path.read_text(errors="replace"))
            if args.soak:
                boot = rss_settled(web)
                sampler = RssSampler(web, interval=max(5, seconds / 10))
                sampler.start()
            stats, failures, report = run_locust(web, plan, users=users, seconds=seconds)
            print_table(users, seconds, stats, failures, report)
            errors = server_errors_since(web, offset)
            if errors.strip():
                print(f"\ngunicorn's log during this level:\n```\n{errors.strip()[-6000:]}\n```")
            total = next(row for row in stats if row["Name"] == "Aggregated")
            ok = ok and int(total["Failure Count"]) == 0 and not report["server_errors"]
            if args.soak:
                sampler.done.set()
                end = rss_settled(web)
                warm_at, warm = sampler.samples[0] if sampler.samples else (0, boot)
                ok = soak_report(boot, warm, end, sampler.peak, warm_at) and ok
    print(
        f"\nThink time {THINK_SECONDS[0]}-{THINK_SECONDS[1]} s; gunicorn {server.WORKERS} sync workers on this machine"
    )
    if not ok:
        sys.exit("Some requests failed or answered 5xx (or the memory targets were missed): see above.")


if __name__ == "__main__":
    main()
