"""Emails about people in a workspace. Links that carry a secret are made here, when the worker sends the
email, inside the workspace's schema: the queue and the email log never hold a usable token."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import EmailChange, Invitation, User
from accounts.tokens import password_reset_token
from core.links import workspace_url
from notifications.registry import EmailKind, EmailObsolete, register
from tenants.emails import sample_workspace


def _invitation(email) -> dict:
    invitation = Invitation.objects.filter(pk=email.params["invitation_id"], email__iexact=email.to).first()
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        raise EmailObsolete("the invitation was accepted, revoked or has expired")
    token = invitation.link_token()
    if Invitation.hash_token(token) != invitation.token_hash:
        raise EmailObsolete("the invitation was renewed since (or SECRET_KEY changed): its newer email has the link")
    return {
        "tenant": email.tenant,
        "inviter_name": email.params.get("inviter_name", ""),
        "role": invitation.get_role_display(),
        "accept_url": workspace_url(email.tenant.subdomain, f"/invitations/{token}/"),
        "expires_at": invitation.expires_at,
    }


def _password_reset(email) -> dict:
    user = User.objects.filter(pk=email.params["user_id"], is_active=True).first()
    if user is None or user.email.lower() != email.to.lower():
        raise EmailObsolete("the account is gone, inactive or has another address")
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": password_reset_token.make_token(user)},
    )
    return {"tenant": email.tenant, "user": user, "reset_url": workspace_url(email.tenant.subdomain, path)}


def _email_change(email) -> dict:
    change = EmailChange.objects.select_related("user").filter(pk=email.params["change_id"]).first()
    if change is None or change.used_at or change.expired or not change.user.is_active:
        raise EmailObsolete("the change was made, expired, or the account is deactivated")
    if change.user.email != change.old_email:
        raise EmailObsolete("the account changed since the request")
    token = change.link_token()
    if Invitation.hash_token(token) != change.token_hash:
        raise EmailObsolete("SECRET_KEY changed since the request: ask again")
    return {
        "tenant": email.tenant,
        "user": change.user,
        "new_email": email.to,
        "confirm_url": workspace_url(email.tenant.subdomain, f"/account/email/confirm/{token}/"),
    }


def _email_changed(email) -> dict:
    return {"tenant": email.tenant, "old_email": email.to, "new_email": email.params["new_email"]}


def _sample_user() -> User:
    return User(email="ann@smith.example", full_name='Ann O\'Neil & "Annie"', role=User.Role.OWNER)


register(
    EmailKind(
        name="invitation",
        label="Invitation",
        essential=True,
        build=_invitation,
        sample=lambda: {
            "tenant": sample_workspace(),
            "inviter_name": "Ann O'Neil & <Co>",
            "role": "Admin",
            "accept_url": workspace_url("smith", "/invitations/sample-token/"),
            "expires_at": timezone.now() + timedelta(days=7),
        },
    )
)
register(
    EmailKind(
        name="password_reset",
        label="Password reset",
        essential=True,
        build=_password_reset,
        sample=lambda: {
            "tenant": sample_workspace(),
            "user": _sample_user(),
            "reset_url": workspace_url("smith", "/password-reset/MQ/sample-token/"),
        },
    )
)
register(
    EmailKind(
        name="email_change",
        label="Email change: confirm the new address",
        essential=True,
        build=_email_change,
        sample=lambda: {
            "tenant": sample_workspace(),
            "user": _sample_user(),
            "new_email": "annie@smith.example",
            "confirm_url": workspace_url("smith", "/account/email/confirm/sample-token/"),
        },
    )
)
register(
    EmailKind(
        name="email_changed",
        label="Email change: notice to the old address",
        essential=True,
        build=_email_changed,
        sample=lambda: {"tenant": sample_workspace(), "old_email": "ann@smith.example", "new_email": "annie@x.example"},
    )
)
