"""A production-like configuration for launch_check tests (console/launch.py)."""

from django.db import connection
from djstripe.models import WebhookEndpoint

from billing.webhooks import HANDLED_EVENTS
from tenants.models import Domain, Tenant
from tests.support.operators import operator_create

PRODUCTION_HOST = "portal.example.org"


def production_like(settings, *, stripe, sentry_dsn: str) -> None:
    """Settings and rows of a complete production deployment. Its services are the test's: `stripe` is the
    fake_stripe fixture (Stripe's wire format), `sentry_dsn` an EnvelopeServer's (tests/support/sentry.py)."""
    settings.APP_ENV = "production"
    settings.IS_PRODUCTION = True
    settings.DEBUG = False
    settings.SECRET_KEY = "a" * 20 + "Z9y8X7w6V5u4T3s2R1q0p" + "k" * 20
    settings.BASE_DOMAIN = PRODUCTION_HOST
    settings.ALLOWED_HOSTS = [PRODUCTION_HOST, f".{PRODUCTION_HOST}"]
    settings.SITE_SCHEME = "https"
    settings.APP_URL = f"https://{PRODUCTION_HOST}"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.SILENCED_SYSTEM_CHECKS = [*settings.SILENCED_SYSTEM_CHECKS, "security.W021"]
    settings.SENTRY_DSN = sentry_dsn
    settings.LOG_FORMAT = "json"
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    # The ESP's API is asked for an answer (any answer): the local Sentry stand-in gives one.
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token", "POSTMARK_API_URL": sentry_dsn.replace("public@", "")}
    settings.STRIPE_SECRET_KEY = "sk_live_" + "L1veKeyForLaunchCheck0123"
    settings.STRIPE_LIVE_MODE = True
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    stripe.put(
        {
            "id": "we_launch",
            "object": "webhook_endpoint",
            "url": f"https://{PRODUCTION_HOST}/stripe/webhook/9b7f1c1e-2b4a-4f51-9a43-1c2d3e4f5a6b/",
            "status": "enabled",
            "livemode": True,
            "enabled_events": list(HANDLED_EVENTS),
        }
    )
    WebhookEndpoint.objects.create(
        id="we_launch",
        livemode=True,
        url=f"https://{PRODUCTION_HOST}/stripe/webhook/9b7f1c1e-2b4a-4f51-9a43-1c2d3e4f5a6b/",
        secret="whsec_launch",
        api_version=settings.STRIPE_API_VERSION,
        enabled_events=list(HANDLED_EVENTS),
        status="enabled",
        djstripe_uuid="9b7f1c1e-2b4a-4f51-9a43-1c2d3e4f5a6b",
    )
    Domain.objects.create(domain=PRODUCTION_HOST, tenant=Tenant.objects.get(schema_name="public"), is_primary=False)
    operator_create("op@example.org", "correct horse battery staple")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers DEFAULT VALUES")


def resolve_to_proxy(hostname: str) -> list[str]:
    return ["203.0.113.10"]
