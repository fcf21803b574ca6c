from django.conf import settings

from core.links import public_url


def site(request):
    tenant = getattr(request, "tenant", None)
    return {
        "APP_NAME": settings.APP_NAME,
        "BASE_DOMAIN": settings.BASE_DOMAIN,
        "grace_days": settings.DELETION_GRACE_DAYS,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        "public_home_url": public_url("/"),
        "workspace": tenant if tenant is not None and tenant.is_workspace else None,
    }
