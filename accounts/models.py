import hashlib
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.db import connection


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """One table per schema: a workspace's staff in its schema, the operators in the public one.

    The email is unique within its table, so within a workspace (the seed's UNIQUE(tenant_id, username)).
    """

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    ROLE_RANK: ClassVar[dict[str, int]] = {Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

    email = models.EmailField("email address", unique=True)  # stored lower-case
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Operators only: may use the admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    # Part of every session's auth hash: bumping it ends all of the user's sessions at once.
    session_version = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    def has_role(self, role: str) -> bool:
        """member < admin < owner."""
        return self.is_active and self.ROLE_RANK.get(self.role, 0) >= self.ROLE_RANK[role]

    def get_session_auth_hash(self) -> str:
        return self._session_auth_hash(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_auth_hash(fallback_secret)

    def _session_auth_hash(self, secret: str | bytes) -> str:
        return salted_hmac(
            "accounts.User.session", f"{self.password}:{self.session_version}", secret=secret, algorithm="sha256"
        ).hexdigest()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An invitation to join this workspace (one table per schema). Only a hash of the token is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=[(User.Role.ADMIN, "Admin"), (User.Role.MEMBER, "Member")])
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def renew_token(self) -> str:
        """A fresh token and expiry (the old link stops working); returns the token."""
        self.sent_at = timezone.now()
        self.expires_at = self.sent_at + timedelta(days=settings.INVITATION_DAYS)
        token = self.link_token()
        self.token_hash = self.hash_token(token)
        return token

    def link_token(self) -> str:
        """The token of the current link, derived from the invitation and SECRET_KEY: the worker puts it in
        the email when it sends it (every retry the same link), and only its hash is stored. Renewing
        (a new sent_at) makes a new one. The schema is part of it: a link works in its workspace only."""
        value = f"{connection.schema_name}:{self.email}:{self.sent_at.isoformat()}"
        return salted_hmac("accounts.Invitation.link_token", value, algorithm="sha256").hexdigest()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING


class EmailChange(models.Model):
    """A member's pending change of login email, confirmed from the new address. The link's token is
    derived from the row and SECRET_KEY (the worker puts it in the email when it sends it); only its hash
    is stored, and a used or expired change is refused."""

    MAX_AGE = timedelta(hours=24)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    old_email = models.EmailField()
    new_email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.old_email} -> {self.new_email}"

    def link_token(self) -> str:
        value = f"{connection.schema_name}:{self.user_id}:{self.new_email}:{self.created_at.isoformat()}"
        return salted_hmac("accounts.EmailChange.link_token", value, algorithm="sha256").hexdigest()

    def seal(self) -> None:
        self.token_hash = Invitation.hash_token(self.link_token())

    @property
    def expired(self) -> bool:
        return self.created_at + self.MAX_AGE <= timezone.now()
