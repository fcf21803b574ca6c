"""Transactional emails: subject, plain text and HTML from templates/emails/<name>.*, sent through
Django's email API (anymail in production). A failure to send is logged, never raised to the caller."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.http import urlencode

from tenants.links import workspace_url

logger = logging.getLogger(__name__)


def send_templated(*, name: str, to: str, context: dict, tags: list[str], metadata: dict) -> bool:
    context = {"APP_NAME": settings.APP_NAME, "SUPPORT_EMAIL": settings.SUPPORT_EMAIL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{name}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    message.tags = tags
    message.metadata = metadata
    try:
        message.send()
    except Exception:
        logger.exception("email %s to workspace %s failed", name, metadata.get("workspace"))
        return False
    return True


def send_welcome(*, tenant_id: int) -> bool:
    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    return send_templated(
        name="welcome",
        to=tenant.owner_email,
        context={
            "tenant": tenant,
            "workspace_url": workspace_url(tenant.subdomain, "/"),
            "login_url": workspace_url(tenant.subdomain, "/login/?" + urlencode({"email": tenant.owner_email})),
        },
        tags=["welcome"],
        metadata={"workspace": tenant.subdomain},
    )
