"""Settings for the portal: every knob comes from the environment (see .env.example).

APP_ENV is the mode: "development" (the default, safe to run on a laptop), "test" or "production". Some
defaults depend on it (secure cookies, JSON logs, ...). This module is the development settings; the
test suite loads config/settings/test.py and production config/settings/production.py, which refuses to
start with an unsafe configuration (core/checks.py). manage.py, wsgi and asgi pick the module from
APP_ENV (config/settings/__init__.py).
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

APP_ENV = env.str("APP_ENV", default="development")
if APP_ENV not in ("development", "test", "production"):
    raise ImproperlyConfigured(f"APP_ENV must be development, test or production, not {APP_ENV!r}.")
IS_PRODUCTION = APP_ENV == "production"
if IS_PRODUCTION and os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.production":
    # Production's refusals of unsafe values live in that module: never run production without them.
    raise ImproperlyConfigured("APP_ENV=production needs DJANGO_SETTINGS_MODULE=config.settings.production.")
IS_TEST = APP_ENV == "test"

# Core
DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=APP_ENV == "development")
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY and APP_ENV == "development":  # production: refused below
    # Off DEBUG the site may be reachable by others: a key everyone can read signs nothing.
    raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY (the development key is public).")

# Product and URLs
APP_NAME = env.str("APP_NAME", default="Portal")
_default_app_url = "http://localhost" if IS_TEST else f"http://localhost:{env.int('PORT', default=8000)}"
APP_URL = env.str("APP_URL", default=_default_app_url).rstrip("/")
_app_url = urlsplit(APP_URL)
SITE_SCHEME = _app_url.scheme
BASE_DOMAIN = env.str("BASE_DOMAIN", default=_app_url.hostname or "localhost").lower()
SITE_PORT = _app_url.port
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="support@example.com")

# Proxies whose X-Forwarded-For is believed (CIDR list, e.g. 127.0.0.1/32 for a proxy on this machine);
# empty: the socket's peer is the client (core/http.py).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# The operators' admin answers only to these networks (CIDR list); empty: from anywhere (still behind login).
ADMIN_ALLOWED_IPS = env.list("ADMIN_ALLOWED_IPS", default=[])
# Request limits count IPv6 clients by this network prefix (a /64 is one customer allocation).
RATE_LIMIT_IPV6_PREFIX = env.int("RATE_LIMIT_IPV6_PREFIX", default=64)

ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env.list("EXTRA_ALLOWED_HOSTS", default=[])]

# Applications: django-tenants splits them between the public schema and every workspace schema.
SHARED_APPS = [
    "django_tenants",
    "core",
    "core.apps.QueueConfig",  # Procrastinate's app: the job queue's tables live in the public schema only
    "tenants",
    "legal",
    "accounts",  # operators live in the public schema's user table
    "console.apps.OperatorsAdminConfig",  # django.contrib.admin with the operators' site (console/admin_site.py)
    "django_otp",  # operators' two-factor authentication (public schema only)
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "anymail",
    "corsheaders",
    "djstripe",
    "billing",
    "notifications",
    "console",  # the operators' console: dashboard, launch checks, workspace admin, backups and restores
]
TENANT_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",  # sessions per schema: a cookie from one workspace is unknown in another
    "accounts",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# New workspaces are cloned from this pre-migrated schema instead of replaying every migration.
TENANT_BASE_SCHEMA = "tenant_template"
# Required by django-tenants alongside TENANT_BASE_SCHEMA; our pool (tenants/schemas/pool.py) does the copying.
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True
# dj-stripe's schema as one migration that replaces its upstream history (docs/decisions.md).
MIGRATION_MODULES = {"djstripe": "billing.djstripe_migrations"}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "core.health.HealthMiddleware",  # /healthz and /readyz on any host: before redirects, limits and routing
    "tenants.middleware.TlsAskMiddleware",  # Caddy's on-demand TLS ask (any host, plain HTTP): likewise first
    "core.logs.RequestLogMiddleware",  # request id, one `request` log line per request (core/logs.py)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # before tenant routing: static files cost no query
    "core.ratelimit.GlobalRateLimitMiddleware",  # before any database work (core/ratelimit.py)
    "console.admin_guard.AdminAllowedIpsMiddleware",  # /admin/ only from ADMIN_ALLOWED_IPS, when set
    "tenants.middleware.WorkspaceRoutingMiddleware",
    "core.sentry.SentryScopeMiddleware",  # tags a request's Sentry events with its workspace; idle without Sentry
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # only /api/ (CORS_URLS_REGEX)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified() for the operators' admin
    "billing.middleware.WorkspaceAccessMiddleware",  # the workspace's state decides what answers (billing/access.py)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.headers.SecurityHeadersMiddleware",  # Permissions-Policy; no-store on pages for a logged-in user
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
    {
        # Plain-text emails and subjects: rendered without HTML escaping ("Smith & Co", not "Smith &amp; Co").
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Database: DATABASE_URL, or (development and tests only) an embedded PostgreSQL under .data/
if "DATABASE_URL" in os.environ or IS_PRODUCTION:
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from core.embedded_db import embedded_database

    DATABASES = {"default": embedded_database(BASE_DIR / ".data" / "postgres")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by every process), else per-process memory.
REDIS_URL = env.str("REDIS_URL", default="")
# Seconds to connect to Redis and for one command: an unreachable Redis must not hold requests for long.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=1.0)


def _cache_backend(*, ignore_errors: bool) -> dict:
    """ignore_errors: Redis down reads as a cache miss and writes are dropped (logged), so pages keep
    working; without it the error is raised, and the error handler answers 503 (core/errors.py)."""
    if not REDIS_URL:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    options = {"SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS, "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS}
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {**options, "IGNORE_EXCEPTIONS": ignore_errors},
    }


# Redis down (docs/decisions.md): the "default" and "public" caches degrade to misses (sessions fall back
# to their table, routes to the Domain lookup); "ratelimit" raises, so the login and password-reset
# throttles fail closed (503) and only the callers that chose to (the global limit, signup) fail open.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
CACHES = {
    # Keys are prefixed with the current schema: one workspace can never read another's entries.
    "default": {
        **_cache_backend(ignore_errors=True),
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Throttle counters that must span every host (per client IP); per-account keys name the schema.
    "ratelimit": {**_cache_backend(ignore_errors=False), "KEY_PREFIX": "rl"},
    # Facts about public-schema rows that every host reads (hostname -> workspace routes, plan names):
    # read before any schema is chosen, so no tenant prefix.
    "public": {**_cache_backend(ignore_errors=True), "KEY_PREFIX": "pub"},
}
# How long a cached hostname -> workspace entry may live; every change through the ORM drops it at once.
ROUTING_CACHE_SECONDS = env.int("ROUTING_CACHE_SECONDS", default=300)
RATELIMIT_USE_CACHE = "ratelimit"
if not REDIS_URL:
    # django-ratelimit wants a shared cache with atomic increments; per-process memory is only for
    # development, where one process serves everything. Production requires REDIS_URL.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Accounts and sessions
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"  # a path, not a URL name: the admin on the public host resolves it too
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",  # OWASP's Argon2id parameters (accounts/hashers.py)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # The seed app stored bcrypt hashes; imported as "bcrypt$<hash>", they are upgraded on login.
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
# Sessions are read from the cache (the default alias: keys carry the schema) and written through to
# the workspace's own table, so a warm request reads no session row and a Redis restart logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Workspaces
TRIAL_DAYS = env.int("TRIAL_DAYS", default=14)
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# A closed workspace (and its schema) is deleted for good this many days later by purge_closed_tenants.
DELETION_GRACE_DAYS = env.int("DELETION_GRACE_DAYS", default=30)
# Brute-force throttles (django-ratelimit "count/period", e.g. 5/10m): per client IP across all hosts,
# and per account (email within one workspace). Login and password reset share them.
LOGIN_RATE_PER_IP = env.str("LOGIN_RATE_PER_IP", default="30/10m")
LOGIN_RATE_PER_ACCOUNT = env.str("LOGIN_RATE_PER_ACCOUNT", default="5/10m")  # per account and client: strict
# Per account from anywhere: soft (past it only clients that already failed on the account are refused).
LOGIN_RATE_PER_ACCOUNT_ANYWHERE = env.str("LOGIN_RATE_PER_ACCOUNT_ANYWHERE", default="20/10m")
SIGNUP_RATE_PER_IP = env.str("SIGNUP_RATE_PER_IP", default="10/h")  # workspaces created, not attempts
SIGNUP_RATE_GLOBAL = env.str("SIGNUP_RATE_GLOBAL", default="200/h")  # all clients together: scripted signups
# Invitation and email-change emails one workspace may send per day (a brake on using us to spam).
WORKSPACE_EMAILS_PER_DAY = env.int("WORKSPACE_EMAILS_PER_DAY", default=50)
INVITATION_RESEND_MINUTES = env.int("INVITATION_RESEND_MINUTES", default=10)
# Every request per client address (an IPv6 client per /64), on every host: "count/period" or "off".
# Off by default in development and tests (one developer, many requests), the seed's 100/15m otherwise.
RATE_LIMIT_GLOBAL = env.str("RATE_LIMIT_GLOBAL", default="off" if APP_ENV in ("development", "test") else "100/15m")
# Parallel connections `migrate_workspaces` (and the release step) migrates workspace schemas over.
MIGRATION_WORKERS = env.int("MIGRATION_WORKERS", default=4)
# Pre-migrated spare schemas that signup claims (see docs/decisions.md); the worker refills the pool.
SCHEMA_POOL_SIZE = env.int("SCHEMA_POOL_SIZE", default=5)
SIGNUP_HANDOFF_MAX_AGE = env.int("SIGNUP_HANDOFF_MAX_AGE", default=120)
RESERVED_SUBDOMAINS = frozenset(
    env.list(
        "RESERVED_SUBDOMAINS",
        default=[
            "www",
            "admin",
            "api",
            "app",
            "mail",
            "email",
            "smtp",
            "imap",
            "pop",
            "ftp",
            "static",
            "media",
            "assets",
            "cdn",
            "public",
            "billing",
            "support",
            "help",
            "docs",
            "status",
            "blog",
            "dev",
            "staging",
            "test",
            "demo-admin",
            "dashboard",
            "login",
            "signup",
            "account",
            "accounts",
            "auth",
            "oauth",
            "sso",
            "security",
            "root",
            "system",
            "internal",
            "portal",
            "webhooks",
            "stripe",
            "ns1",
            "ns2",
            "mx",
            "tenant",
            "tenants",
            "template",
            "legal",
            "terms",
            "privacy",
        ],
    )
)

# Background jobs (Procrastinate, on the same PostgreSQL): `manage.py procrastinate worker` runs them and
# the periodic schedule. Every failed attempt is kept for the job admin (core.queue).
PROCRASTINATE_ON_APP_READY = "core.queue.on_app_ready"
# Trial reminders go out this many days before a trial ends (the hourly sweep sends the one now due).
TRIAL_REMINDER_DAYS = sorted({int(day) for day in env.list("TRIAL_REMINDER_DAYS", default=["7", "3", "1"])})

# Legal
TERMS_VERSION = env.str("TERMS_VERSION", default="2026-11-01")
PRIVACY_VERSION = env.str("PRIVACY_VERSION", default="2026-11-01")

# Email: console in development, anymail's test backend in tests, any anymail ESP in production.
# Every ANYMAIL_* variable lands in ANYMAIL without its prefix (ANYMAIL_POSTMARK_SERVER_TOKEN -> ...).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="anymail.backends.test.EmailBackend" if IS_TEST else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("EMAIL_FROM", default=f"{APP_NAME} <noreply@{BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {key.removeprefix("ANYMAIL_"): value for key, value in os.environ.items() if key.startswith("ANYMAIL_")}

# Stripe (dj-stripe). Without STRIPE_SECRET_KEY billing pages say billing is not configured.
# STRIPE_FAKE=1 (development only; production refuses it) serves a fake Stripe at /fake-stripe/ and points
# everything at it: billing works offline, Checkout to webhook to an active workspace.
STRIPE_FAKE = env.bool("STRIPE_FAKE", default=False)
STRIPE_FAKE_STORE = BASE_DIR / ".data" / "fake-stripe.json" if STRIPE_FAKE and not IS_TEST else None
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_FakeStripeForDevelopment000" if STRIPE_FAKE else "")
# Where stripe-python (and so dj-stripe) sends API calls: Stripe's own, or a Stripe-compatible server.
STRIPE_API_BASE = env.str(
    "STRIPE_API_BASE", default=f"{APP_URL}/fake-stripe" if STRIPE_FAKE else "https://api.stripe.com"
).rstrip("/")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_API_VERSION = env.str("STRIPE_API_VERSION", default="2024-06-20")
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=10)
# dj-stripe reads its keys by mode; STRIPE_SECRET_KEY is the one in use.
STRIPE_LIVE_SECRET_KEY = STRIPE_SECRET_KEY if STRIPE_LIVE_MODE else ""
STRIPE_TEST_SECRET_KEY = "" if STRIPE_LIVE_MODE else STRIPE_SECRET_KEY
# Days an invoice may stay unpaid after its first failed payment before the workspace is suspended.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=3)

# Backups: a run deletes backups of the same kind (the whole database, or that workspace) older than this.
BACKUP_KEEP_DAYS = env.int("BACKUP_KEEP_DAYS", default=14)
# Where backups go (STORAGES["backups"]): BACKUP_DIR on this machine, or with BACKUP_S3_BUCKET an S3-compatible
# bucket (AWS, MinIO, Ceph, R2, ...) through django-storages. Retention stays ours (by the time in each name).
BACKUP_S3_BUCKET = env.str("BACKUP_S3_BUCKET", default="")
_backup_s3_options = {
    "endpoint_url": env.str("BACKUP_S3_ENDPOINT_URL", default=""),  # unset: AWS itself
    "region_name": env.str("BACKUP_S3_REGION", default=""),
    "location": env.str("BACKUP_S3_PREFIX", default="").strip("/"),
    # Unset: boto3's own chain (AWS_* variables, a profile, the instance's or the task's role).
    "access_key": env.str("BACKUP_S3_ACCESS_KEY_ID", default=""),
    "secret_key": env.str("BACKUP_S3_SECRET_ACCESS_KEY", default=""),
}
BACKUP_S3_SSE = env.str("BACKUP_S3_SSE", default="")
if not BACKUP_S3_BUCKET and (any(_backup_s3_options.values()) or BACKUP_S3_SSE):
    raise ImproperlyConfigured(
        "BACKUP_S3_* variables are set without BACKUP_S3_BUCKET: backups would stay on this machine's disk."
    )
if BACKUP_S3_SSE not in ("", "AES256", "aws:kms"):
    raise ImproperlyConfigured(f"BACKUP_S3_SSE must be AES256 or aws:kms, not {BACKUP_S3_SSE!r}.")
if BACKUP_S3_BUCKET:
    from botocore.config import Config as BotoConfig

    _backups_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **{option: value for option, value in _backup_s3_options.items() if value},
            "bucket_name": BACKUP_S3_BUCKET,
            # No ACL header: objects are as private as the bucket (buckets with ACLs disabled refuse one).
            "default_acl": None,
            # Never replace an object, as on the local disk (names carry microseconds: this costs one HEAD).
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": BACKUP_S3_SSE} if BACKUP_S3_SSE else {},
            # A backup read for a restore spills to a temporary file past this instead of staying in memory.
            "max_memory_size": 64 * 1024 * 1024,
            # An unreachable endpoint fails within seconds, not after boto3's default minute per attempt.
            "client_config": BotoConfig(
                connect_timeout=10, read_timeout=60, retries={"mode": "standard", "max_attempts": 3}
            ),
        },
    }
else:
    _backups_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.path("BACKUP_DIR", default=BASE_DIR / ".data" / "backups")},
    }
# Directory of pg_dump and pg_restore; empty: the binaries matching the server's major version.
PG_BIN_DIR = env.str("PG_BIN_DIR", default="")

DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_SUBSCRIBER_MODEL = "tenants.Tenant"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"

# Internationalization
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (whitenoise serves them in every mode)
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Backups (console/backups/) go through this storage: BACKUP_DIR, or an S3 bucket (see Backups above).
    "backups": _backups_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# HTTPS and security headers (effective behind TLS; see docs/deployment.md)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=IS_PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=IS_PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)  # only once the domain is on the list

# Content-Security-Policy (django-csp): our own scripts only (there is no inline script anywhere), styles
# from us (inline style attributes allowed: emails previewed in the admin and Django's admin use them),
# never framed. Forms may post or redirect to our hosts and to Stripe's Checkout and Portal (and the fake
# Stripe's pages in development). CSP_REPORT_ONLY=true sends it as Content-Security-Policy-Report-Only.
# Outside production any port (make run's, a test server's); in production the site's own.
_port = ":*" if not IS_PRODUCTION else (f":{SITE_PORT}" if SITE_PORT else "")
_origin = f"{SITE_SCHEME}://{BASE_DOMAIN}{_port}"
_workspaces = f"{SITE_SCHEME}://*.{BASE_DOMAIN}{_port}"
_csp = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", _origin, _workspaces, "https://checkout.stripe.com", "https://billing.stripe.com"],
    }
}
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)
CONTENT_SECURITY_POLICY = None if CSP_REPORT_ONLY else _csp
CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp if CSP_REPORT_ONLY else None
# CORS for the JSON API (/api/ only): the public host and every workspace subdomain, plus CORS_EXTRA_ORIGINS;
# with credentials (the workspace's session cookie, which only its own host has).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOWED_ORIGIN_REGEXES = [
    rf"^{SITE_SCHEME}://([a-z0-9-]+\.)?{re.escape(BASE_DOMAIN)}" + (r"(:\d+)?$" if not IS_PRODUCTION else f"{_port}$")
]
CORS_ALLOWED_ORIGINS = env.list("CORS_EXTRA_ORIGINS", default=[])
OTP_TOTP_ISSUER = APP_NAME + " operations"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

# Logging (core/logs.py): one event per line on stderr, JSON in production and readable text elsewhere
# (LOG_FORMAT=json|console), with the request id, workspace and user id of the request, and every token
# scrubbed (core/scrub.py); the log level comes from the environment.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "console")
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": "core.logs.formatter", "json": LOG_FORMAT == "json"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG only) would print its records a second time, unscrubbed.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        # Procrastinate says at INFO what it registers at every start; jobs run and fail are still logged.
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
    },
}

# Error tracking (core/sentry.py); SentryScopeMiddleware (in MIDDLEWARE) tags each request's events.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.sentry import release_detect, sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=APP_ENV),
        release=env.str("SENTRY_RELEASE", default="") or release_detect(),
        sample_rate=env.float("SENTRY_SAMPLE_RATE", default=1.0),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
