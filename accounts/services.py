"""The team and its accounts inside one workspace: every change here is one function, checked against
the acting user's role (member < admin < owner) and written to the workspace's audit trail.

All of these run with the connection on the workspace's schema (as a request to its host does).
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.utils import timezone

from accounts.audit import MemberAction
from accounts.models import EmailChange, Invitation, User
from billing.selectors import plan_for
from core.audit import ActorKind, audit_record
from core.http import client_ip
from core.queue import defer_once
from notifications.models import EmailLog
from notifications.services import email_queue
from tenants.models import Tenant
from tenants.selectors import current_workspace

PASSWORD_RESET_TASK = "accounts.password_reset_request"  # accounts/tasks.py


class TeamError(Exception):
    """A refused change; the message is written for the person who asked for it."""


class TeamPermissionDenied(TeamError):
    """The acting user's role is too low for this change."""


class PlanLimitReached(TeamError):
    """The plan has no room for another member."""


class InvitationUnusable(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def actor_kind_of(user: User) -> ActorKind:
    """How the audit trail names a person of the workspace acting in it."""
    return ActorKind.OWNER if user.role == User.Role.OWNER else ActorKind.MEMBER


def _audit(*, actor: User | None, action: MemberAction, ip_address: str | None, **details) -> None:
    audit_record(
        tenant=current_workspace(),
        actor=actor.email if actor else "system",
        actor_kind=actor_kind_of(actor) if actor else ActorKind.SYSTEM,
        action=action,
        details=details,
        ip_address=ip_address,
    )


def _require(actor: User, role: str) -> None:
    if not actor.has_role(role):
        raise TeamPermissionDenied(
            f"Only {'an owner' if role == User.Role.OWNER else 'an admin or owner'} can do that."
        )


def _owner_contact_sync(owner: User) -> None:
    """The Tenant row keeps the owner's name and email for operators, billing and emails."""
    Tenant.objects.filter(pk=current_workspace().pk).update(owner_email=owner.email, owner_name=owner.full_name)


def _member_limit_check(*, extra: int) -> None:
    """The plan's member limit counts active members and pending invitations."""
    plan = plan_for(current_workspace())
    if plan is None or plan.member_limit is None:
        return
    seats = User.objects.filter(is_active=True).count() + Invitation.objects.pending().count()
    if seats + extra > plan.member_limit:
        raise PlanLimitReached(
            f"Your {plan.name} plan includes up to {plan.member_limit} members (pending invitations count). "
            "Upgrade your plan on the Billing page to add more."
        )


def _other_active_owners(member: User) -> int:
    owners = User.objects.select_for_update().filter(role=User.Role.OWNER, is_active=True).exclude(pk=member.pk)
    return len(owners)


# Invitations


@transaction.atomic
def invitation_create(*, inviter: User, email: str, role: str, ip_address: str | None = None) -> Invitation:
    _require(inviter, User.Role.ADMIN)
    if role not in (User.Role.ADMIN, User.Role.MEMBER):
        raise TeamError("Invite people as an admin or a member; ownership is transferred from the Team page.")
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise TeamError(f"{email} is already a member of this workspace.")
    invitation = Invitation.objects.select_for_update().filter(email=email, accepted_at=None, revoked_at=None).first()
    if invitation is not None and invitation.status == Invitation.Status.PENDING:
        raise TeamError(f"{email} has already been invited. You can resend the invitation below.")
    _member_limit_check(extra=1)
    invitation = invitation or Invitation(email=email)  # an expired invitation is renewed, not duplicated
    invitation.role = role
    invitation.invited_by = inviter
    invitation.renew_token()  # the worker derives the link's token again when it sends the email
    invitation.save()
    _audit(actor=inviter, action=MemberAction.MEMBER_INVITED, ip_address=ip_address, email=email, role=role)
    _send_invitation(invitation, inviter)
    return invitation


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation, ip_address: str | None = None) -> Invitation:
    _require(actor, User.Role.ADMIN)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise TeamError(f"This invitation was {invitation.status} and cannot be resent.")
    wait = invitation.sent_at + timedelta(minutes=settings.INVITATION_RESEND_MINUTES) - timezone.now()
    if wait.total_seconds() > 0:
        minutes = max(1, -int(-wait.total_seconds() // 60))
        raise TeamError(
            f"This invitation was just sent. You can send it again in {minutes} minute{'s' if minutes > 1 else ''}."
        )
    invitation.renew_token()
    invitation.save()
    _audit(actor=actor, action=MemberAction.MEMBER_INVITATION_RESENT, ip_address=ip_address, email=invitation.email)
    _send_invitation(invitation, actor)
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation, ip_address: str | None = None) -> Invitation:
    _require(actor, User.Role.ADMIN)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise TeamError("This invitation is no longer open.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    _audit(actor=actor, action=MemberAction.MEMBER_INVITATION_REVOKED, ip_address=ip_address, email=invitation.email)
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation behind a link in this workspace; a token from another workspace finds nothing."""
    return Invitation.objects.filter(token_hash=Invitation.hash_token(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str, ip_address: str | None = None) -> User:
    invitation = Invitation.objects.select_for_update().filter(token_hash=Invitation.hash_token(token)).first()
    if invitation is None:
        raise InvitationUnusable("invalid")
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationUnusable(invitation.status)
    if User.objects.filter(email=invitation.email).exists():
        raise InvitationUnusable(Invitation.Status.ACCEPTED)
    user = User.objects.create_user(invitation.email, password, full_name=full_name, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    _audit(actor=user, action=MemberAction.MEMBER_JOINED, ip_address=ip_address, email=user.email, role=user.role)
    return user


def _workspace_email_budget() -> None:
    """Invitations and email changes send mail to addresses the workspace chooses: at most
    WORKSPACE_EMAILS_PER_DAY a day, so a workspace cannot use us to spam."""
    since = timezone.now() - timedelta(days=1)
    sent = EmailLog.objects.filter(
        tenant=current_workspace(), kind__in=("invitation", "email_change"), created_at__gte=since
    ).count()
    if sent >= settings.WORKSPACE_EMAILS_PER_DAY:
        raise TeamError(
            f"This workspace has sent {sent} invitation and confirmation emails today, the most it can. "
            "Please try again tomorrow, or write to support if you need more."
        )


def _send_invitation(invitation: Invitation, inviter: User) -> None:
    _workspace_email_budget()
    email_queue(
        kind="invitation",
        to=invitation.email,
        tenant=current_workspace(),
        params={"invitation_id": invitation.pk, "inviter_name": str(inviter)},
    )


# Members


def _invitations_of_revoke(member: User, *, actor: User, ip_address: str | None) -> None:
    """Someone who may no longer invite (demoted to member, deactivated) leaves no pending invitation behind
    that would still let a stranger in on their say-so."""
    pending = Invitation.objects.select_for_update().pending().filter(invited_by=member)
    emails = list(pending.values_list("email", flat=True))
    if emails:
        pending.update(revoked_at=timezone.now())
        _audit(
            actor=actor,
            action=MemberAction.MEMBER_INVITATIONS_REVOKED,
            ip_address=ip_address,
            email=member.email,
            invitations=emails,
        )


@transaction.atomic
def member_change_role(*, actor: User, member: User, role: str, ip_address: str | None = None) -> User:
    _require(actor, User.Role.ADMIN)
    if role not in User.ROLE_RANK:
        raise TeamError("Unknown role.")
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.role == role:
        return member
    if User.Role.OWNER in (role, member.role):
        _require(actor, User.Role.OWNER)
    if member.role == User.Role.OWNER and _other_active_owners(member) == 0:
        raise TeamError("A workspace needs at least one owner. Make someone else an owner first.")
    previous, member.role = member.role, role
    member.save(update_fields=["role"])
    if not member.has_role(User.Role.ADMIN):
        _invitations_of_revoke(member, actor=actor, ip_address=ip_address)
    _audit(
        actor=actor,
        action=MemberAction.MEMBER_ROLE_CHANGED,
        ip_address=ip_address,
        email=member.email,
        **{"from": previous, "to": role},
    )
    return member


@transaction.atomic
def member_deactivate(*, actor: User, member: User, ip_address: str | None = None) -> User:
    """Deactivated members cannot log in, and their open sessions stop working at once."""
    _require(actor, User.Role.ADMIN)
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.pk == actor.pk:
        raise TeamError("You cannot deactivate yourself.")
    if member.role == User.Role.OWNER:
        _require(actor, User.Role.OWNER)
        if _other_active_owners(member) == 0:
            raise TeamError("A workspace needs at least one active owner.")
    if not member.is_active:
        return member
    member.is_active = False
    member.session_version += 1
    member.save(update_fields=["is_active", "session_version"])
    _invitations_of_revoke(member, actor=actor, ip_address=ip_address)
    _audit(actor=actor, action=MemberAction.MEMBER_DEACTIVATED, ip_address=ip_address, email=member.email)
    return member


@transaction.atomic
def member_reactivate(*, actor: User, member: User, ip_address: str | None = None) -> User:
    _require(actor, User.Role.ADMIN)
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.role == User.Role.OWNER:
        _require(actor, User.Role.OWNER)
    if member.is_active:
        return member
    _member_limit_check(extra=1)
    member.is_active = True
    member.save(update_fields=["is_active"])
    _audit(actor=actor, action=MemberAction.MEMBER_REACTIVATED, ip_address=ip_address, email=member.email)
    return member


@transaction.atomic
def ownership_transfer(*, actor: User, member: User, ip_address: str | None = None) -> User:
    """The member becomes an owner and the acting owner an admin."""
    _require(actor, User.Role.OWNER)
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.pk == actor.pk:
        raise TeamError("You already own this workspace.")
    if not member.is_active:
        raise TeamError("Reactivate this member before making them the owner.")
    member.role = User.Role.OWNER
    member.save(update_fields=["role"])
    # Audited before the acting owner steps down to admin: the transfer is an owner's act.
    _audit(actor=actor, action=MemberAction.MEMBER_OWNERSHIP_TRANSFERRED, ip_address=ip_address, email=member.email)
    User.objects.filter(pk=actor.pk).update(role=User.Role.ADMIN)
    actor.role = User.Role.ADMIN
    _owner_contact_sync(member)
    return member


# Own account


def profile_update(*, user: User, full_name: str, ip_address: str | None = None) -> User:
    changed = user.full_name != full_name
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    if changed:
        _audit(actor=user, action=MemberAction.MEMBER_PROFILE_CHANGED, ip_address=ip_address, fields=["full_name"])
    return user


def password_changed(*, user: User, ip_address: str | None = None) -> None:
    """Called once Django's password change form has saved the new password."""
    _audit(actor=user, action=MemberAction.MEMBER_PASSWORD_CHANGED, ip_address=ip_address, email=user.email)


def password_reset_completed(*, user: User, ip_address: str | None = None) -> None:
    """Called once a password was set through an emailed reset link."""
    _audit(actor=user, action=MemberAction.MEMBER_PASSWORD_RESET, ip_address=ip_address, email=user.email)


def sessions_end_others(*, request, user: User) -> None:
    """Log out every other session of this user; the current one stays."""
    user.session_version += 1
    user.save(update_fields=["session_version"])
    update_session_auth_hash(request, user)
    _audit(actor=user, action=MemberAction.MEMBER_SESSIONS_ENDED, ip_address=client_ip(request), email=user.email)


@transaction.atomic
def email_change_request(*, user: User, new_email: str) -> None:
    """Queue a confirmation link to the new address; the change happens when it is followed."""
    new_email = new_email.strip().lower()
    if User.objects.filter(email=new_email).exclude(pk=user.pk).exists():
        raise TeamError("Another member of this workspace already uses that email address.")
    _workspace_email_budget()
    EmailChange.objects.filter(user=user, used_at=None).delete()  # only the newest link works
    change = EmailChange(user=user, old_email=user.email, new_email=new_email)
    change.seal()
    change.save()
    email_queue(kind="email_change", to=new_email, tenant=current_workspace(), params={"change_id": change.pk})


def email_change_check(*, token: str, lock: bool = False) -> tuple[User, EmailChange]:
    """The member and the change a confirmation link stands for, if it may still be used: known in this
    workspace (a link from another one finds nothing), not used, not expired, for an active member whose
    address has not changed since, in a workspace that is not closed."""
    changes = EmailChange.objects.select_for_update() if lock else EmailChange.objects
    change = changes.select_related("user").filter(token_hash=Invitation.hash_token(token)).first()
    if change is None or change.expired:
        raise TeamError("This confirmation link is invalid or has expired.")
    if current_workspace().is_closed:
        raise TeamError("This workspace is closed: its members' addresses can no longer change.")
    if change.used_at or change.user.email != change.old_email:
        raise TeamError("This confirmation link has already been used.")
    user = change.user
    if not user.is_active:
        raise TeamError("This account is deactivated: its address cannot change.")
    if User.objects.filter(email=change.new_email).exclude(pk=user.pk).exists():
        raise TeamError("Another member of this workspace already uses that email address.")
    return user, change


@transaction.atomic
def email_change_confirm(*, token: str, ip_address: str | None = None) -> User:
    """Works once (the old address must still be current), only in the workspace that issued it."""
    user, change = email_change_check(token=token, lock=True)
    change.used_at = timezone.now()
    change.save(update_fields=["used_at"])
    user.email = change.new_email
    user.save(update_fields=["email"])
    email_queue(
        kind="email_changed", to=change.old_email, tenant=current_workspace(), params={"new_email": change.new_email}
    )
    if current_workspace().owner_email == change.old_email:
        _owner_contact_sync(user)
    _audit(
        actor=user,
        action=MemberAction.MEMBER_EMAIL_CHANGED,
        ip_address=ip_address,
        **{"from": change.old_email, "to": change.new_email},
    )
    return user


# Password reset


def password_reset_request(*, email: str) -> None:
    """Queue the reset: the worker looks the account up and emails it if it exists. The request does the
    same work either way, so neither its answer nor its timing tells whether the account exists. Requests
    for an address whose reset is still waiting in the queue collapse into that one."""
    tenant_id, email = current_workspace().pk, email.strip()
    address = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    defer_once(PASSWORD_RESET_TASK, lock=f"password-reset:{tenant_id}:{address}", tenant_id=tenant_id, email=email)


def password_reset_send(*, email: str) -> int:
    """In the workspace's schema (the worker's job): a reset link to each active account with that address."""
    tenant = current_workspace()
    users = [user for user in User.objects.filter(email__iexact=email, is_active=True) if user.has_usable_password()]
    with transaction.atomic():
        for user in users:
            email_queue(kind="password_reset", to=user.email, tenant=tenant, params={"user_id": user.pk})
    return len(users)
