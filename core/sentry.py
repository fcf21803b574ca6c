"""Error reports to Sentry: what is sent, under which release, and tagged with which workspace.

`sentry_init` is called by settings when SENTRY_DSN is set. Requests: the Django integration reports
unhandled errors; `SentryScopeMiddleware` tags each request's events with its workspace and plan and names
the user by an opaque id. Jobs: sentry-sdk has no Procrastinate integration; the worker logs a job's final
failure at ERROR with its exception, which the logging integration turns into an event (attempts that will
be retried are logged at INFO: breadcrumbs). Everything sent goes through `core.scrub.scrub_deep`, once.
"""

import json
import logging
import re
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import sentry_sdk
from django.core.exceptions import MiddlewareNotUsed
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from core.scrub import HIDDEN, scrub, scrub_deep

ROOT = Path(__file__).resolve().parents[1]
_SHA = re.compile(r"[0-9a-f]{40}")
# A value under a key containing one of these (headers, form fields, query parameters, log extras) is hidden:
# cookies (sessionid, csrftoken and their __Host- names), Authorization, passwords, CSRF and other tokens,
# Stripe-Signature.
SECRET_KEY_PARTS = ("password", "passwd", "secret", "token", "csrf", "session", "cookie", "authorization", "signature")
# Headers naming the client (sentry-sdk's own list when PII is off) or carrying secrets.
HEADERS_WITHHELD = ["forwarded", "-ip", "remote-", "via", "-user", *SECRET_KEY_PARTS]
# Strings anywhere in an event: email addresses (an event names no one), Stripe secret and restricted keys,
# webhook secrets and signatures.
SECRET_TEXT = [
    (re.compile(r"[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]+"), HIDDEN),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), HIDDEN),
    (re.compile(r"\bv[01]=[0-9a-f]{64}"), HIDDEN),
]


def sentry_init(
    *, dsn: str, environment: str, release: str, sample_rate: float = 1.0, traces_sample_rate: float = 0.0
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        sample_rate=sample_rate,
        traces_sample_rate=traces_sample_rate,
        # Only the integrations named here: the auto-enabled Redis one would put cache keys, which hold
        # session keys (the session cookie's value), into spans and breadcrumbs.
        auto_enabling_integrations=False,
        integrations=[DjangoIntegration(), LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        # What integrations collect (sentry-sdk's successor to send_default_pii=False): no user details (the
        # middleware names users by an opaque id), no cookies, no SQL parameters or queue payloads, headers and
        # query parameters without sensitive-sounding ones, and no local variables: a failing email job holds
        # the message, whose links carry tokens. Form fields are kept for debugging, minus secrets (below).
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist", "terms": HEADERS_WITHHELD}},
            "url_query_params": {"mode": "denylist", "terms": list(SECRET_KEY_PARTS)},
            "http_bodies": ["incoming_request"],
            "database_query_data": False,
            "queues": False,
            "gen_ai": {"inputs": False, "outputs": False},
            "graphql": {"document": False, "variables": False},
            "stack_frame_variables": False,
        },
        before_send=sentry_event_scrub,
        before_send_transaction=sentry_event_scrub,
        before_breadcrumb=sentry_event_scrub,
    )


# An event, a transaction or a breadcrumb (sentry-sdk's TypedDicts): returned as the same type.
Payload = TypeVar("Payload", bound=Mapping[str, object])


def sentry_event_scrub(event: Payload, hint: dict[str, Any]) -> Payload:
    """before_send (events, transactions and breadcrumbs): no cookies at all, no value under a secret-sounding
    key, no email address or Stripe secret in any string, and URL tokens blanked (core/scrub.py)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        if isinstance(request.get("query_string"), str):
            request["query_string"] = _query_string_scrub(request["query_string"])
    return scrub_deep(event, text=lambda text: scrub(_text_scrub(text)), hidden_key=_is_secret_key)


def _is_secret_key(key) -> bool:
    return isinstance(key, str) and any(part in key.lower() for part in SECRET_KEY_PARTS)


def _text_scrub(text: str) -> str:
    for pattern, replacement in SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _query_string_scrub(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, HIDDEN if _is_secret_key(name) else value) for name, value in pairs], safe="[]")


def release_detect(*, root: Path = ROOT) -> str:
    """The commit checked out in `root` (read from .git, no subprocess), else the project's version."""
    sha = _git_sha(root / ".git")
    if sha:
        return sha
    with open(root / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    return f"{project['name']}@{project['version']}"


def _git_sha(git: Path) -> str | None:
    try:
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            git = (git.parent / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head if _SHA.fullmatch(head) else None
        ref = head.removeprefix("ref: ")
        common = git / "commondir"
        if common.is_file():
            git = (git / common.read_text().strip()).resolve()
        ref_file = git / ref
        if ref_file.is_file():
            sha = ref_file.read_text().strip()
            return sha if _SHA.fullmatch(sha) else None
        for line in (git / "packed-refs").read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _SHA.fullmatch(sha):
                return sha
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    return None


def sentry_user_id(*, schema_name: str, user_pk) -> str:
    """A user as Sentry sees them: stable and unique across workspaces, and naming no one."""
    return f"{schema_name}:{user_pk}"


class SentryScopeMiddleware:
    """Each request's events carry tags `workspace` (its subdomain, or "public") and `plan`, and the user
    as an opaque id. Placed right after the routing middleware (request.tenant is known).

    Its own isolation scope per request, so nothing set here reaches another request's events, whichever
    handler runs Django (the integration forks one in its WSGI and ASGI wrappers, not in the test client).
    The user is looked up when an event is made, and only if this request already loaded it: no query is
    added to any page, and none is tried while reporting an error (the database may be what failed).
    Not used at all without Sentry."""

    def __init__(self, get_response):
        if not sentry_sdk.get_client().is_active():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        with sentry_sdk.isolation_scope() as scope:
            scope.clear_breadcrumbs()
            tenant = getattr(request, "tenant", None)
            if tenant is not None:
                if tenant.kind == tenant.Kind.WORKSPACE:
                    scope.set_tag("workspace", tenant.subdomain)
                    scope.set_tag("plan", tenant.plan)
                else:
                    scope.set_tag("workspace", "public")
                scope.add_event_processor(_user_processor(request, tenant.schema_name))
            return self.get_response(request)


def _user_processor(request, schema_name: str):
    def add_user(event, hint):
        # Set by django.contrib.auth's lazy request.user once something read it; never load it here.
        user = getattr(request, "_cached_user", None)
        if user is not None and user.is_authenticated:
            event["user"] = {"id": sentry_user_id(schema_name=schema_name, user_pk=user.pk)}
        return event

    return add_user


def dsn_probe(dsn: str, *, timeout: float = 5.0) -> str:
    """Send Sentry an empty client report (an envelope sentry-sdk itself sends; it creates no issue) with
    the DSN's key: "" when Sentry accepts it, else why not (unreachable, or a 4xx for a wrong key or
    project). For launch_check."""
    parts = urlsplit(dsn)
    prefix, _, project = parts.path.rstrip("/").rpartition("/")
    if not (parts.scheme and parts.hostname and parts.username and project):
        return "the DSN is not of the form https://<key>@<host>/<project>"
    port = f":{parts.port}" if parts.port else ""
    url = f"{parts.scheme}://{parts.hostname}{port}{prefix}/api/{project}/envelope/"
    now = time.time()
    envelope = b"\n".join(
        json.dumps(item).encode()
        for item in (
            {"dsn": dsn, "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))},
            {"type": "client_report"},
            {"timestamp": now, "discarded_events": []},
        )
    )
    request = urllib.request.Request(
        url,
        data=envelope,
        method="POST",
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": (
                f"Sentry sentry_version=7, sentry_key={parts.username}, sentry_client=portal-launch-check/1"
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the operator's DSN)
            return "" if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        return f"unreachable: {getattr(error, 'reason', error)}"
