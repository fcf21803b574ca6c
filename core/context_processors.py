from django.conf import settings
from django.urls import reverse

from core.links import public_url


def _public_page(name: str) -> str:
    """A page of the public host, absolute: the public layout is also shown on hosts that serve no such
    page (the "no workspace here" page of an unknown subdomain)."""
    return public_url(reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF))


def site(request):
    tenant = getattr(request, "tenant", None)
    return {
        "APP_NAME": settings.APP_NAME,
        "BASE_DOMAIN": settings.BASE_DOMAIN,
        "grace_days": settings.DELETION_GRACE_DAYS,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        "public_home_url": _public_page("landing"),
        "public_signup_url": _public_page("signup"),
        "public_terms_url": _public_page("legal:terms"),
        "public_privacy_url": _public_page("legal:privacy"),
        "workspace": tenant if tenant is not None and tenant.is_workspace else None,
    }
