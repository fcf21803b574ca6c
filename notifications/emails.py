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
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"emails/{name}.txt", context), to=[to])
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


def send_invitation(*, tenant, invitation, token: str, inviter_name: str) -> bool:
    return send_templated(
        name="invitation",
        to=invitation.email,
        context={
            "tenant": tenant,
            "inviter_name": inviter_name,
            "role": invitation.get_role_display(),
            "accept_url": workspace_url(tenant.subdomain, f"/invitations/{token}/"),
            "expires_at": invitation.expires_at,
        },
        tags=["invitation"],
        metadata={"workspace": tenant.subdomain},
    )


def send_password_reset(*, tenant, user, reset_path: str) -> bool:
    return send_templated(
        name="password_reset",
        to=user.email,
        context={"tenant": tenant, "user": user, "reset_url": workspace_url(tenant.subdomain, reset_path)},
        tags=["password-reset"],
        metadata={"workspace": tenant.subdomain},
    )


def send_email_change(*, tenant, user, new_email: str, token: str) -> bool:
    return send_templated(
        name="email_change",
        to=new_email,
        context={
            "tenant": tenant,
            "user": user,
            "new_email": new_email,
            "confirm_url": workspace_url(tenant.subdomain, f"/account/email/confirm/{token}/"),
        },
        tags=["email-change"],
        metadata={"workspace": tenant.subdomain},
    )


def send_workspace_closed(*, tenant_id: int) -> bool:
    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    return send_templated(
        name="workspace_closed",
        to=tenant.owner_email,
        context={
            "tenant": tenant,
            "purge_after": tenant.purge_after,
            "login_url": workspace_url(tenant.subdomain, "/login/"),
        },
        tags=["workspace-closed"],
        metadata={"workspace": tenant.subdomain},
    )


def send_payment_failed(*, tenant_id: int, amount: int, currency: str) -> bool:
    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    return send_templated(
        name="payment_failed",
        to=tenant.email,
        context={
            "tenant": tenant,
            "amount": f"{amount / 100:,.2f} {currency.upper()}",
            "billing_url": workspace_url(tenant.subdomain, "/billing/"),
            "grace_days": settings.BILLING_GRACE_DAYS,
        },
        tags=["payment-failed"],
        metadata={"workspace": tenant.subdomain},
    )


def send_email_changed_notice(*, tenant, old_email: str, new_email: str) -> bool:
    """Tell the previous address, so a hijacked account does not change hands silently."""
    return send_templated(
        name="email_changed",
        to=old_email,
        context={"tenant": tenant, "old_email": old_email, "new_email": new_email},
        tags=["email-changed"],
        metadata={"workspace": tenant.subdomain},
    )
