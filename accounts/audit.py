"""The audit actions of `accounts` (core/audit.py): invitations, roles, credentials."""

from django.db import models

from core.audit import actions_register


@actions_register
class MemberAction(models.TextChoices):
    MEMBER_INVITED = "member.invited", "Member invited"
    MEMBER_INVITATION_RESENT = "member.invitation_resent", "Invitation sent again"
    MEMBER_INVITATION_REVOKED = "member.invitation_revoked", "Invitation revoked"
    MEMBER_INVITATIONS_REVOKED = "member.invitations_revoked", "Pending invitations revoked"
    MEMBER_JOINED = "member.joined", "Member joined"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Role changed"
    MEMBER_DEACTIVATED = "member.deactivated", "Member deactivated"
    MEMBER_REACTIVATED = "member.reactivated", "Member reactivated"
    MEMBER_OWNERSHIP_TRANSFERRED = "member.ownership_transferred", "Ownership transferred"
    MEMBER_SESSIONS_ENDED = "member.sessions_ended", "Sessions ended"
    MEMBER_EMAIL_CHANGED = "member.email_changed", "Email address changed"
    MEMBER_PROFILE_CHANGED = "member.profile_changed", "Profile changed"
    MEMBER_PASSWORD_CHANGED = "member.password_changed", "Password changed"
    MEMBER_PASSWORD_RESET = "member.password_reset", "Password reset by email"
