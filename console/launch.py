"""The launch checklist (the seed's section 17) checked against the running configuration and services:
`manage.py launch_check`. Each check returns one `Check` with PASS, WARN or FAIL, the reason and the fix.

What cannot be decided here is a WARN with the reason, never a PASS: DNS outside production, Stripe's
side of the keys (its API is not called). A configuration that
is merely unfinished is a WARN in development and tests and a FAIL in production; a service that answers
wrongly (database, Redis, the TLS ask, an operator without 2FA) is a FAIL everywhere.

This module reads every app (it is the one place that looks at the whole deployment), so it lives in
`config`, the top layer, which is an app for its management command; nothing imports it but the command
and its tests. Its record, LaunchCheckRun, is a plain model in `core`.
"""

import re
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks as django_checks
from django.core.mail import get_connection
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from djstripe.models import WebhookEndpoint

from accounts.models import User
from billing import stripe_api
from billing.stripe_api import BillingUnavailable
from billing.webhooks import HANDLED_EVENTS
from console import backups
from console.models import LaunchCheckRun
from core import health, sentry
from core.checks import unsafe_settings_problems
from core.db import connection
from legal.documents import current_documents
from tenants import selectors
from tenants.schemas import migrator

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
HSTS_MIN_SECONDS = 60 * 60 * 24 * 365
STRIPE_KEY = re.compile(r"^sk_(test|live)_[A-Za-z0-9]{24,}$")
LOAD_SECTION = re.compile(r"^## Load:", re.MULTILINE)
PERFORMANCE_DOC = Path(settings.BASE_DIR) / "docs" / "performance.md"

Resolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    reason: str
    fix: str = ""


def _production() -> bool:
    return settings.APP_ENV == "production"


def _unfinished() -> str:
    """The status of a configuration not yet fit for launch: refused in production, expected elsewhere."""
    return FAIL if _production() else WARN


def _resolve(hostname: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(hostname, 443, proto=socket.IPPROTO_TCP)})


def database_check() -> Check:
    """Reachable, the public schema has every migration file of the code, and every tenant schema (spares
    and the template included) has the same migration history as the template, which has them all: one
    catalog pass of fingerprints (tenants/schemas/migrator.py), no migration graph loaded."""
    name = "database migrated"
    fix = "Run the release step: manage.py migrate_workspaces (or manage.py bootstrap)."
    pending = health.migrations_pending()
    if pending:
        names = ", ".join(health.migration_names(pending))
        return Check(name, FAIL, f"public schema: {len(pending)} migration(s) not applied ({names})", fix)
    template = settings.TENANT_BASE_SCHEMA
    schemas = migrator._tenant_schemas()
    if template not in schemas:
        return Check(name, FAIL, f"the template schema {template!r} does not exist", "Run manage.py bootstrap.")
    tenant_apps = {label.rsplit(".", 1)[-1] for label in settings.TENANT_APPS}
    template_pending = [m for m in health.migrations_pending(schema=template) if m[0] in tenant_apps]
    if template_pending:
        names = ", ".join(health.migration_names(template_pending))
        return Check(name, FAIL, f"template schema: {len(template_pending)} migration(s) not applied ({names})", fix)
    fingerprints = migrator._fingerprints(schemas)
    behind = sorted(schema for schema, print_ in fingerprints.items() if print_ != fingerprints[template])
    if behind:
        listed = ", ".join(behind[:5]) + (" ..." if len(behind) > 5 else "")
        return Check(name, FAIL, f"{len(behind)} of {len(schemas)} schemas differ from the template ({listed})", fix)
    return Check(name, PASS, f"public schema and {len(schemas)} tenant schemas have every migration")


def deploy_checks_check() -> Check:
    """Django's `check --deploy`: the security checks, ours (core/checks.deploy_check) included."""
    name = "check --deploy"
    messages = [
        message
        for message in django_checks.run_checks(include_deployment_checks=True)
        if message.level >= django_checks.WARNING and not message.is_silenced()
    ]
    if not messages:
        return Check(name, PASS, "no errors or warnings")
    ids = ", ".join(sorted({message.id or "?" for message in messages}))
    reason = f"{len(messages)} message(s): {ids}" + ("" if _production() else " (expected outside production)")
    return Check(name, _unfinished(), reason, "Run manage.py check --deploy and fix what it lists.")


def environment_check() -> Check:
    """The settings production refuses to start with (core/checks.py), read from the live settings."""
    name = "environment"
    values = {key: getattr(settings, key) for key in dir(settings) if key.isupper()}
    problems = unsafe_settings_problems(values)
    if not problems:
        return Check(name, PASS, "every required variable is set and safe for production")
    reason = "; ".join(problems)
    if not _production():
        reason = f"production would refuse: {reason}"
    return Check(name, _unfinished(), reason, "Set the variables in the environment (see .env.example).")


def tls_check() -> Check:
    """HTTPS settings behind the proxy, and the answer Caddy's on-demand certificate question gets."""
    name = "TLS"
    unknown = f"launch-check-{secrets.token_hex(4)}.{settings.BASE_DOMAIN}"
    if not selectors.tls_certificate_allowed(hostname=settings.BASE_DOMAIN):
        return Check(name, FAIL, f"the ask endpoint refuses {settings.BASE_DOMAIN}", "Check BASE_DOMAIN.")
    if selectors.tls_certificate_allowed(hostname=unknown):
        return Check(name, FAIL, f"the ask endpoint allows the unknown host {unknown}", "Check tenants/selectors.py.")
    missing = [
        label
        for label, ok in [
            ("APP_URL https://", settings.SITE_SCHEME == "https"),
            ("BEHIND_TLS_PROXY (SECURE_PROXY_SSL_HEADER)", bool(settings.SECURE_PROXY_SSL_HEADER)),
            ("SECURE_SSL_REDIRECT", settings.SECURE_SSL_REDIRECT),
            (f"SECURE_HSTS_SECONDS >= {HSTS_MIN_SECONDS}", settings.SECURE_HSTS_SECONDS >= HSTS_MIN_SECONDS),
            ("SECURE_HSTS_INCLUDE_SUBDOMAINS", settings.SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("SESSION_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE),
            ("CSRF_COOKIE_SECURE", settings.CSRF_COOKIE_SECURE),
        ]
        if not ok
    ]
    if missing:
        return Check(
            name,
            _unfinished(),
            "ask endpoint answers correctly; not set: " + ", ".join(missing),
            "Serve behind Caddy (deploy/Caddyfile) with BEHIND_TLS_PROXY=true and the production defaults.",
        )
    return Check(name, PASS, "HTTPS settings on; the ask endpoint allows the public host and refuses an unknown one")


def monitoring_check() -> Check:
    name = "monitoring"
    problems = []
    if not settings.SENTRY_DSN:
        problems.append("SENTRY_DSN is not set (errors reach only the logs)")
    if settings.LOG_FORMAT != "json":
        problems.append(f"LOG_FORMAT is {settings.LOG_FORMAT} (json for the log collector)")
    if problems:
        return Check(name, _unfinished(), "; ".join(problems), "Set SENTRY_DSN and LOG_FORMAT=json.")
    host = urlsplit(settings.SENTRY_DSN).hostname
    problem = sentry.dsn_probe(settings.SENTRY_DSN)
    if problem:
        return Check(name, FAIL, f"Sentry at {host} did not accept a probe: {problem}", "Check SENTRY_DSN.")
    return Check(name, PASS, f"Sentry at {host} accepted a probe; JSON logs")


def redis_check() -> Check:
    name = "redis"
    if not settings.REDIS_URL or "redis" not in settings.CACHES["ratelimit"]["BACKEND"].lower():
        return Check(name, _unfinished(), "REDIS_URL is not set (per-process memory)", "Set REDIS_URL.")
    try:
        health.redis_probe()
    except Exception as error:
        reason = f"not reachable: {health.error_text(error)}"[:200]
        return Check(name, FAIL, reason, "Start Redis; check REDIS_URL.")
    return Check(name, PASS, "reachable")


def queue_worker_check() -> Check:
    name = "queue worker"
    fix = "Run the worker: manage.py procrastinate worker (the Procfile's worker, docs/deployment.md)."
    age = health.worker_heartbeat_age()
    if age is None:
        return Check(name, _unfinished(), "no queue worker is running", fix)
    if age > health.WORKER_HEARTBEAT_MAX_AGE:
        return Check(name, _unfinished(), f"last heartbeat {age:.0f} s ago", fix)
    return Check(name, PASS, f"last heartbeat {age:.0f} s ago")


def _age_hours(made) -> float:
    return (timezone.now() - made).total_seconds() / 3600


def backups_check() -> Check:
    """The newest whole-database backup (recent, its checksum, pg_restore reads its contents) and the last
    nightly run of workspace backups (recent, none failed), whose newest backup is restored into a scratch
    schema and rolled back: the row counts must be the manifest's."""
    name = "backups"
    fix = "Run manage.py backup and manage.py backup_workspace --all (the worker runs both nightly)."
    try:
        database = backups.database_backup_verify()
    except backups.BackupError as error:
        status = _unfinished() if "no whole-database backup" in str(error) else FAIL
        return Check(name, status, str(error), fix)
    hours = _age_hours(datetime.fromisoformat(database["created_at"]))
    if hours > backups.MAX_AGE.total_seconds() / 3600:
        return Check(name, _unfinished(), f"newest whole-database backup is {hours:.0f} h old", fix)
    run = backups.workspaces_backup_last_run()
    if run is None or not run.get("newest"):
        return Check(name, _unfinished(), "no nightly workspace backups yet", fix)
    if run["failed"]:
        listed = ", ".join(sorted(run["failed"])[:5])
        return Check(name, FAIL, f"the last nightly run failed for {len(run['failed'])} workspace(s): {listed}", fix)
    run_hours = _age_hours(datetime.fromisoformat(run["finished_at"]))
    if run_hours > backups.MAX_AGE.total_seconds() / 3600:
        return Check(name, _unfinished(), f"the last nightly workspace backups are {run_hours:.0f} h old", fix)
    try:
        counts = backups.restore_check(run["newest"])
    except backups.BackupError as error:
        return Check(name, FAIL, f"the newest workspace backup does not restore: {error}", fix)
    return Check(
        name,
        PASS,
        f"newest whole-database backup {hours:.1f} h old (checksum and contents read); {run['backed_up']} "
        f"workspaces backed up {run_hours:.1f} h ago; {run['newest']} restored into a scratch schema "
        f"({sum(counts.values())} rows in {len(counts)} tables, as its manifest says)",
    )


def dns_check(*, resolve: Resolver = _resolve) -> Check:
    """The public host and a made-up subdomain (the wildcard record) resolve, to the same addresses."""
    name = "DNS"
    if not _production():
        return Check(name, WARN, "checked in production only (APP_ENV=production)")
    wildcard = f"launch-check-{secrets.token_hex(4)}.{settings.BASE_DOMAIN}"
    answers = {}
    for hostname in (settings.BASE_DOMAIN, wildcard):
        try:
            answers[hostname] = resolve(hostname)
        except OSError as error:
            return Check(name, FAIL, f"{hostname} does not resolve: {error}", "Add the A/AAAA and *. records.")
    if answers[settings.BASE_DOMAIN] != answers[wildcard]:
        return Check(
            name,
            WARN,
            f"{settings.BASE_DOMAIN} -> {answers[settings.BASE_DOMAIN]} but *.{settings.BASE_DOMAIN} -> "
            f"{answers[wildcard]}",
            "Point the wildcard record at the same proxy.",
        )
    return Check(name, PASS, f"{settings.BASE_DOMAIN} and *.{settings.BASE_DOMAIN} -> {answers[wildcard]}")


def stripe_check() -> Check:
    """The key's shape and mode, then Stripe itself: the key opens the account, and Stripe has a webhook
    endpoint at this site with every handled event, whose signing secret dj-stripe holds."""
    name = "stripe"
    if not stripe_api.configured():
        return Check(name, WARN, "billing is not configured (no STRIPE_SECRET_KEY)", "Set the Stripe keys.")
    if settings.STRIPE_FAKE:
        return Check(name, _unfinished(), "STRIPE_FAKE is on (a fake Stripe)", "Unset STRIPE_FAKE.")
    key = settings.STRIPE_SECRET_KEY
    match = STRIPE_KEY.match(key)
    if not match:
        return Check(name, FAIL, "STRIPE_SECRET_KEY does not look like sk_test_/sk_live_ + 24 characters")
    if (match.group(1) == "live") != settings.STRIPE_LIVE_MODE:
        return Check(name, FAIL, f"a {match.group(1)} key but STRIPE_LIVE_MODE={settings.STRIPE_LIVE_MODE}")
    fix = "Run manage.py stripe_setup (--replace if the endpoint points elsewhere)."
    try:
        account = stripe_api.account_get()
        endpoints = stripe_api.webhook_endpoints_list()
    except BillingUnavailable as error:
        return Check(name, FAIL, f"Stripe refused the key or cannot be reached: {error}"[:300], "Check the key.")
    at_site = [
        endpoint
        for endpoint in endpoints
        if urlsplit(endpoint.get("url") or "").hostname == settings.BASE_DOMAIN and endpoint.get("status") == "enabled"
    ]
    if not at_site:
        return Check(name, _unfinished(), f"Stripe has no enabled webhook endpoint at {settings.BASE_DOMAIN}", fix)
    # Ours: one whose signing secret dj-stripe holds, at the URL dj-stripe receives it on.
    stored = {
        mirror.id: mirror
        for mirror in WebhookEndpoint.objects.filter(id__in=[e["id"] for e in at_site]).exclude(secret="")
    }
    ours = [
        endpoint
        for endpoint in at_site
        if endpoint["id"] in stored
        and urlsplit(endpoint["url"]).path == f"/stripe/webhook/{stored[endpoint['id']].djstripe_uuid}/"
    ]
    if not ours:
        listed = ", ".join(endpoint["id"] for endpoint in at_site)
        return Check(name, FAIL, f"no endpoint at {settings.BASE_DOMAIN} ({listed}) has its secret stored here", fix)
    endpoint = ours[0]
    enabled = set(endpoint.get("enabled_events") or [])
    missing = sorted(set(HANDLED_EVENTS) - enabled)
    if missing and "*" not in enabled:
        return Check(name, _unfinished(), f"the webhook endpoint misses {', '.join(missing)}", fix)
    if match.group(1) == "test":
        return Check(name, _unfinished(), "a test key: no real payments", "Set the live key and STRIPE_LIVE_MODE=true.")
    return Check(name, PASS, f"live key of {account.get('id')}; webhook endpoint {endpoint['id']} at {endpoint['url']}")


def email_check() -> Check:
    """An anymail ESP with its credentials (the backend is built, which checks them; nothing is sent)."""
    name = "email"
    backend = settings.EMAIL_BACKEND
    if not backend.startswith("anymail.backends.") or backend.startswith("anymail.backends.test"):
        return Check(
            name,
            _unfinished(),
            f"EMAIL_BACKEND is {backend}, not an email provider",
            "Set EMAIL_BACKEND to an anymail ESP (e.g. anymail.backends.postmark.EmailBackend) and its ANYMAIL_*.",
        )
    try:
        esp = get_connection(backend)
    except Exception as error:
        return Check(name, FAIL, f"{backend}: {error}"[:200], "Set the provider's ANYMAIL_* variables.")
    provider = backend.split(".")[2]
    api_url = getattr(esp, "api_url", "")  # anymail's HTTP backends; an SMTP one has none
    if api_url:
        problem = _unreachable(api_url)
        if problem:
            reason = f"{provider}'s API at {api_url} cannot be reached: {problem}"
            return Check(name, FAIL, reason, "Check the network and the ANYMAIL_* API URL.")
    reached = "API reached" if api_url else "no API to reach"
    return Check(name, PASS, f"{provider} from {settings.DEFAULT_FROM_EMAIL}: {reached} (sender not verified here)")


def _unreachable(url: str, *, timeout: float = 5.0) -> str:
    """ "" when the server answers at all (an HTTP error is an answer: nothing is sent, no credentials)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):  # noqa: S310
            return ""
    except urllib.error.HTTPError:
        return ""
    except (urllib.error.URLError, OSError) as error:
        return str(getattr(error, "reason", error))[:200]


def legal_check() -> Check:
    """Versions set (ISO dates) and the pages render on the public host with their version."""
    name = "legal pages"
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    for kind, document in current_documents().items():
        try:
            document.effective_date  # noqa: B018 (the version must be an ISO date)
        except ValueError:
            return Check(name, FAIL, f"{kind} version {document.version!r} is not an ISO date", "Fix the version.")
        response = client.get(f"/{kind}/", secure=settings.SITE_SCHEME == "https")
        if response.status_code != 200 or f"Version {document.version}" not in response.content.decode():
            return Check(name, FAIL, f"/{kind}/ answers {response.status_code} without its version", "Check legal/.")
    connection.set_schema_to_public()
    versions = ", ".join(f"{kind} {doc.version}" for kind, doc in current_documents().items())
    return Check(name, PASS, f"/terms/ and /privacy/ published ({versions})")


def load_test_check() -> Check:
    name = "load test"
    if PERFORMANCE_DOC.exists() and LOAD_SECTION.search(PERFORMANCE_DOC.read_text()):
        return Check(name, PASS, "results in docs/performance.md (## Load:)")
    return Check(name, _unfinished(), "no load test results in docs/performance.md", "Run make bench-load.")


def operators_2fa_check() -> Check:
    name = "operators 2FA"
    connection.set_schema_to_public()
    operators = User.objects.filter(is_active=True).exclude(is_staff=False, is_superuser=False)
    total = operators.count()
    if not total:
        return Check(name, WARN, "no operator account yet", "Create one: manage.py bootstrap.")
    with_device = TOTPDevice.objects.filter(confirmed=True, user__in=operators).values("user").distinct()
    without = list(operators.exclude(pk__in=with_device).order_by("email").values_list("email", flat=True))
    if without:
        return Check(
            name,
            FAIL,
            f"{len(without)} of {total} operators have no confirmed authenticator: {', '.join(without[:5])}",
            "Send each a link: manage.py operator_2fa <email>.",
        )
    return Check(name, PASS, f"all {total} operators have a confirmed authenticator")


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """A check that raises is a FAIL with the error, and the others still run."""
    try:
        return check()
    except Exception as error:
        connection.set_schema_to_public()
        reason = " ".join(health.error_text(error).split())  # one line: SQL errors span several
        return Check(name, FAIL, reason[:300], "See the error.")


def launch_checks_run(*, resolve: Resolver = _resolve) -> list[Check]:
    items = [
        ("database migrated", database_check),
        ("check --deploy", deploy_checks_check),
        ("environment", environment_check),
        ("TLS", tls_check),
        ("monitoring", monitoring_check),
        ("redis", redis_check),
        ("queue worker", queue_worker_check),
        ("backups", backups_check),
        ("DNS", lambda: dns_check(resolve=resolve)),
        ("stripe", stripe_check),
        ("email", email_check),
        ("legal pages", legal_check),
        ("load test", load_test_check),
        ("operators 2FA", operators_2fa_check),
    ]
    return [_guarded(name, check) for name, check in items]


def launch_summary(results: list[Check]) -> dict[str, int]:
    return {status: sum(1 for check in results if check.status == status) for status in (PASS, WARN, FAIL)}


def launch_check_record(*, results: list[Check]) -> LaunchCheckRun:
    summary = launch_summary(results)
    return LaunchCheckRun.objects.create(
        environment=settings.APP_ENV,
        passed=summary[PASS],
        warned=summary[WARN],
        failed=summary[FAIL],
        results=[asdict(check) for check in results],
    )
