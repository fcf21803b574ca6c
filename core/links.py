"""Absolute URLs for the public site and for workspaces, built from APP_URL (scheme and port)."""

from django.conf import settings


def _origin(host: str) -> str:
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{host}{port}"


def public_url(path: str = "/") -> str:
    return _origin(settings.BASE_DOMAIN) + path


def workspace_url(subdomain: str, path: str = "/") -> str:
    return _origin(f"{subdomain}.{settings.BASE_DOMAIN}") + path
