"""Production refuses to start with an unsafe configuration; each problem is named in the error."""

import ipaddress

from django.core.exceptions import ImproperlyConfigured

LOCAL_DOMAINS = {"localhost", "127.0.0.1", "example.com"}


def unsafe_settings_problems(settings: dict) -> list[str]:
    problems = []
    secret_key = settings.get("SECRET_KEY", "")
    weak = len(secret_key) < 50 or len(set(secret_key)) < 5 or secret_key.startswith("django-insecure-")
    if not secret_key or secret_key == settings.get("DEV_SECRET_KEY") or weak:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if settings.get("DEBUG"):
        # dj-stripe accepts a header that overrides the webhook secret when DEBUG is on.
        problems.append("DEBUG must be off")
    if settings.get("BASE_DOMAIN") in LOCAL_DOMAINS:
        problems.append("BASE_DOMAIN (or APP_URL) must be the public domain, not a local one")
    if settings.get("SITE_SCHEME") != "https":
        problems.append("APP_URL must start with https://")
    if not settings.get("SESSION_COOKIE_SECURE") or not settings.get("CSRF_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE must be on")
    return problems + _network_problems(settings) + _service_problems(settings)


def _network_problems(settings: dict) -> list[str]:
    """Who the site believes a request comes from: its proxies and the admin's networks."""
    problems = []
    if settings.get("SECURE_PROXY_SSL_HEADER") and not settings.get("TRUSTED_PROXIES"):
        # Behind a proxy every request comes from the proxy's address: throttles would lock out everyone.
        problems.append("TRUSTED_PROXIES must list the proxy's address (e.g. 127.0.0.1/32) when BEHIND_TLS_PROXY is on")
    for cidr in [*(settings.get("TRUSTED_PROXIES") or []), *(settings.get("ADMIN_ALLOWED_IPS") or [])]:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            problems.append(f"TRUSTED_PROXIES or ADMIN_ALLOWED_IPS has {cidr!r}, not an address or a CIDR network")
    return problems


def _service_problems(settings: dict) -> list[str]:
    """The services it talks to: Redis, the email provider, Stripe and the backups' storage."""
    problems = []
    if not settings.get("REDIS_URL"):
        problems.append("REDIS_URL must be set (login throttles and the cache are shared by every process)")
    if settings.get("EMAIL_BACKEND", "").startswith("django.core.mail.backends.console"):
        problems.append("EMAIL_BACKEND must be a real provider (an anymail backend), not the console")
    if settings.get("STRIPE_FAKE"):
        problems.append("STRIPE_FAKE must be off (it serves a fake Stripe that accepts any payment)")
    if not str(settings.get("STRIPE_API_BASE", "")).startswith("https://"):
        problems.append("STRIPE_API_BASE must be Stripe's https:// API")
    backups_options = ((settings.get("STORAGES") or {}).get("backups") or {}).get("OPTIONS") or {}
    endpoint = backups_options.get("endpoint_url") or ""
    if endpoint and not endpoint.startswith("https://"):
        problems.append("BACKUP_S3_ENDPOINT_URL must be https:// (the keys and the backups would travel in the clear)")
    return problems


def deploy_check(app_configs=None, **kwargs):
    """The same problems as a Django system check, so `manage.py check --deploy` lists them too."""
    from django.conf import settings as django_settings
    from django.core.checks import Error

    if getattr(django_settings, "APP_ENV", "") != "production":
        return []
    values = {name: getattr(django_settings, name) for name in dir(django_settings) if name.isupper()}
    return [Error(problem, id="portal.E001") for problem in unsafe_settings_problems(values)]


def refuse_unsafe_settings(settings: dict) -> None:
    problems = unsafe_settings_problems(settings)
    if problems:
        raise ImproperlyConfigured("Unsafe production configuration: " + "; ".join(problems) + ".")
