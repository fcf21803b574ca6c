"""The users of bench/load.py's load test; bench/load.py runs Locust on this file (not meant to run alone).

The plan (hosts, accounts, password, request cap) comes from the JSON file named by BENCH_LOAD_PLAN. Every
request goes to 127.0.0.1 with the site in the Host header. Each user has its own cookie jar, like a browser.

- Visitor (anonymous, on the public host): the landing page, the signup form, the terms and the stylesheet;
  now and then a real signup with a fresh address, then the hand-off into the new workspace and its dashboard.
- Member (a workspace member): logs in, then the dashboard, own account page and the JSON API (me, workspace);
  now and then logs out and back in.
- Owner (a workspace's owner): logs in, then the dashboard, team, billing and the JSON API (workspace,
  members); now and then logs out and back in.

Each request is checked for the status it should have (a 200 page, or the redirect of a login, signup or
logout); anything else is a failure. 5xx answers are also counted per request and written to the file named
by BENCH_LOAD_REPORT when Locust quits. Past the plan's max_requests, the run stops early.
"""

import json
import os
import random
import re
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import gevent
from locust import FastHttpUser, between, events, task

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text())
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ENVIRONMENT = None
server_errors: Counter = Counter()
request_count = 0
stopping = False


@events.request.add_listener
def on_request(request_type, name, response, **kwargs) -> None:
    global request_count, stopping
    request_count += 1
    status = getattr(response, "status_code", 0) or 0
    if status >= 500:
        server_errors[f"{request_type} {name}"] += 1
    if request_count >= PLAN["max_requests"] and not stopping:
        stopping = True
        print(f"bench: {request_count} requests, the cap: stopping early", flush=True)
        gevent.spawn(ENVIRONMENT.runner.quit)


@events.init.add_listener
def on_init(environment, **kwargs) -> None:
    global ENVIRONMENT
    ENVIRONMENT = environment


@events.quitting.add_listener
def on_quitting(environment, **kwargs) -> None:
    report = {"requests": request_count, "server_errors": dict(server_errors)}
    Path(os.environ["BENCH_LOAD_REPORT"]).write_text(json.dumps(report))


class Browser(FastHttpUser):
    abstract = True
    wait_time = between(PLAN["wait_min"], PLAN["wait_max"])
    host_header = ""

    def call(self, method: str, path: str, name: str, *, expect: int = 200, form: dict | None = None, host=None):
        """One request for `host` (this user's site by default), failed unless it answers `expect`."""
        headers = {"Host": host or self.host_header}
        data = None
        if form is not None:
            data = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        with self.client.request(
            method, path, name=name, data=data, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == expect:
                response.success()
            else:
                location = response.headers.get("Location", "") if response.headers else ""
                response.failure(f"{response.status_code} (expected {expect}) {location}".strip())
        return response

    def csrf(self, response) -> str:
        found = CSRF.search(response.text or "")
        return found.group(1) if found else ""


class Visitor(Browser):
    weight = 3

    def on_start(self) -> None:
        self.host_header = PLAN["public_host"]

    @task(20)
    def landing(self) -> None:
        self.call("GET", "/", "[public] /")
        self.call("GET", "/static/css/portal.css", "[public] /static/css/portal.css")

    @task(10)
    def signup_form(self) -> None:
        self.call("GET", "/signup/", "[public] /signup/")

    @task(6)
    def terms(self) -> None:
        self.call("GET", "/terms/", "[public] /terms/")

    @task(1)
    def signup(self) -> None:
        """A real signup now and then (one visitor task in 37), then the hand-off into the new workspace."""
        form_page = self.call("GET", "/signup/", "[public] /signup/")
        subdomain = f"load-{uuid.uuid4().hex[:12]}"
        form = {
            "csrfmiddlewaretoken": self.csrf(form_page),
            "business_name": f"Load {subdomain}",
            "subdomain": subdomain,
            "full_name": "Load Owner",
            "email": f"owner@{subdomain}.test",
            "password": PLAN["password"],
            "accept_terms": "on",
        }
        done = self.call("POST", "/signup/", "[public] POST /signup/", expect=302, form=form)
        location = urlsplit(done.headers.get("Location", "") if done.headers else "")
        if done.status_code != 302 or not location.netloc.startswith(subdomain):
            return
        host = location.netloc
        handoff = self.call("GET", f"{location.path}?{location.query}", "[new ws] /welcome/", host=host)
        token = parse_qs(location.query)["token"][0]
        form = {"csrfmiddlewaretoken": self.csrf(handoff), "token": token}
        self.call("POST", "/welcome/", "[new ws] POST /welcome/", expect=302, form=form, host=host)
        self.call("GET", "/", "[new ws] /", host=host)
        self.client.cookiejar.clear()


class WorkspaceUser(Browser):
    abstract = True
    accounts_key = ""

    def on_start(self) -> None:
        workspace = random.choice(PLAN["workspaces"])
        self.host_header = workspace["host"]
        self.email = random.choice(workspace[self.accounts_key])
        self.login()

    def login(self) -> None:
        page = self.call("GET", "/login/", "[ws] /login/")
        form = {"csrfmiddlewaretoken": self.csrf(page), "username": self.email, "password": PLAN["password"]}
        self.call("POST", "/login/", "[ws] POST /login/", expect=302, form=form)

    @task(1)
    def logout_and_back(self) -> None:
        page = self.call("GET", "/", "[ws] /")
        self.call("POST", "/logout/", "[ws] POST /logout/", expect=302, form={"csrfmiddlewaretoken": self.csrf(page)})
        self.login()


class Member(WorkspaceUser):
    weight = 5
    accounts_key = "members"

    @task(8)
    def dashboard(self) -> None:
        self.call("GET", "/", "[ws] /")

    @task(2)
    def account(self) -> None:
        self.call("GET", "/account/", "[ws] /account/")

    @task(4)
    def api(self) -> None:
        self.call("GET", "/api/v1/me", "[ws] /api/v1/me")
        self.call("GET", "/api/v1/workspace", "[ws] /api/v1/workspace")


class Owner(WorkspaceUser):
    weight = 2
    accounts_key = "owners"

    @task(6)
    def dashboard(self) -> None:
        self.call("GET", "/", "[ws] /")

    @task(3)
    def team(self) -> None:
        self.call("GET", "/team/", "[ws] /team/")

    @task(2)
    def billing(self) -> None:
        self.call("GET", "/billing/", "[ws] /billing/")

    @task(3)
    def api(self) -> None:
        self.call("GET", "/api/v1/workspace", "[ws] /api/v1/workspace")
        self.call("GET", "/api/v1/members", "[ws] /api/v1/members")
