import json
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.dispatch import Signal
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin


def days_until(moment) -> int:
    """Whole days left until `moment`, a started day counting as one (0 once it has passed)."""
    seconds = (moment - timezone.now()).total_seconds()
    return max(0, -int(-seconds // 86400))


# Sent after a queryset update() of Tenant rows (which sends no post_save), with their primary keys:
# cached copies of those rows (tenants/routing.py) must be dropped.
tenants_updated = Signal()


class TenantQuerySet(models.QuerySet):
    def update(self, **kwargs) -> int:
        pks = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        tenants_updated.send(sender=Tenant, pks=pks)
        return count

    def workspaces(self):
        return self.filter(kind=Tenant.Kind.WORKSPACE)

    def spares(self):
        return self.filter(kind=Tenant.Kind.SPARE)


class Tenant(TenantMixin):
    """A row per PostgreSQL schema.

    Besides customer workspaces, the public schema, the migration template and the pool of
    pre-migrated spare schemas are rows too, so that `migrate_workspaces` keeps every one of them current.
    """

    class Kind(models.TextChoices):
        PUBLIC = "public", "Public schema"
        TEMPLATE = "template", "Template schema"
        SPARE = "spare", "Spare schema"
        WORKSPACE = "workspace", "Workspace"

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    class SuspendedBy(models.TextChoices):
        OPERATOR = "operator", "An operator"
        BILLING = "billing", "Unpaid invoice"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WORKSPACE, db_index=True)
    business_name = models.CharField(max_length=100, blank=True)
    subdomain = models.CharField(max_length=63, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRIALING, db_index=True)
    plan = models.CharField(max_length=32, default="starter", db_index=True)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    suspended_by = models.CharField(max_length=16, choices=SuspendedBy.choices, blank=True)
    owner_email = models.EmailField(blank=True)
    owner_name = models.CharField(max_length=150, blank=True)
    billing_email = models.EmailField(blank=True, help_text="Where invoices and payment notices go.")
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="Closed by its owner; purged DELETION_GRACE_DAYS later."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Schemas are created by tenants.pool (clone of the template), never implicitly on save().
    auto_create_schema = False

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "workspace"

    def __str__(self) -> str:
        return self.business_name or self.schema_name

    @property
    def is_workspace(self) -> bool:
        return self.kind == self.Kind.WORKSPACE

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def purge_after(self):
        return self.closed_at + timedelta(days=settings.DELETION_GRACE_DAYS) if self.closed_at else None

    @property
    def trial_days_left(self) -> int | None:
        if self.status != self.Status.TRIALING or self.trial_ends_at is None:
            return None
        return days_until(self.trial_ends_at)

    @property
    def email(self) -> str:
        """dj-stripe's subscriber model needs an email: the billing contact, else the owner."""
        return self.billing_email or self.owner_email

    @property
    def host(self) -> str:
        return f"{self.subdomain}.{settings.BASE_DOMAIN}"


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class AuditAction(models.TextChoices):
    """Every state change that the audit trail records: one name each, no free strings."""

    TENANT_PROVISIONED = "tenant.provisioned", "Workspace created"
    TENANT_SETTINGS_CHANGED = "tenant.settings_changed", "Workspace settings changed"
    TENANT_EXPORTED = "tenant.exported", "Workspace data exported"
    TENANT_SUSPENDED = "tenant.suspended", "Workspace suspended"
    TENANT_ACTIVATED = "tenant.activated", "Workspace activated"
    TENANT_TRIAL_EXTENDED = "tenant.trial_extended", "Trial extended"
    TENANT_TRIAL_END_SET = "tenant.trial_end_set", "Trial end set"
    TENANT_CLOSED = "tenant.closed", "Workspace closed"
    TENANT_REOPENED = "tenant.reopened", "Workspace reopened"
    TENANT_PURGED = "tenant.purged", "Workspace purged"
    TENANT_BACKED_UP = "tenant.backed_up", "Workspace backed up"
    TENANT_RESTORE_REQUESTED = "tenant.restore_requested", "Restore from a backup requested"
    TENANT_RESTORED = "tenant.restored", "Workspace restored from a backup"
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
    BILLING_INVOICE_PAID = "billing.invoice_paid", "Invoice paid"
    BILLING_PAYMENT_FAILED = "billing.payment_failed", "Payment failed"
    BILLING_SUSPENDED_UNPAID = "billing.suspended_unpaid", "Suspended: unpaid"
    BILLING_SUBSCRIPTION_CANCELLED = "billing.subscription_cancelled", "Subscription cancelled"
    BILLING_SUBSCRIPTION_CHANGED = "billing.subscription_changed", "Subscription changed"
    BILLING_DUPLICATE_SUBSCRIPTION = "billing.duplicate_subscription", "Duplicate subscription"
    BILLING_RENEWAL_STOPPED = "billing.renewal_stopped", "Renewal stopped"
    BILLING_RENEWAL_RESUMED = "billing.renewal_resumed", "Renewal resumed"
    BILLING_COMPED = "billing.comped", "Made free of charge"
    BILLING_COMP_LIFTED = "billing.comp_lifted", "Free of charge lifted"
    LEGAL_ACCEPTED = "legal.accepted", "Terms and privacy policy accepted"
    EMAIL_RESENT = "email.resent", "Email sent again by an operator"


class ActorKind(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    OPERATOR = "operator", "Operator"
    SYSTEM = "system", "System"
    STRIPE = "stripe", "Stripe"


class AuditEvent(models.Model):
    """Who did what to which workspace. Written by the service that made the change, never by hand."""

    tenant = models.ForeignKey(Tenant, null=True, on_delete=models.SET_NULL, related_name="audit_events")
    # Kept apart from the FK so the trail stays readable after a workspace is purged.
    tenant_label = models.CharField(max_length=100, blank=True)
    actor = models.CharField(max_length=254, help_text="Email of the person, or 'system'.")
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices, default=ActorKind.SYSTEM, db_index=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.tenant_label} by {self.actor}"

    @property
    def details_json(self) -> str:
        """Its details as the operators' admin shows and exports them: JSON, keys sorted."""
        return json.dumps(self.details, sort_keys=True)


class RestoreRequest(models.Model):
    """An operator's request to restore a workspace from one of its backups, run by the worker
    (tenants.restore_workspace), with the restore's progress and outcome for the admin.

    The link to Tenant is a ForeignObject over a plain id column, not a ForeignKey, on purpose: a workspace
    backup carries every public row with a ForeignKey to Tenant as the workspace's own data (tenants/backups.py),
    and a restore in place puts those rows back as they were in the backup. These requests are the operators'
    record about the workspace (the running one among them): a restore must neither rewind nor copy them."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    # A restore takes seconds (docs/performance.md); one still running after this lost its worker.
    ABANDONED_AFTER = timedelta(hours=1)

    tenant_id = models.BigIntegerField()
    tenant = models.ForeignObject(
        Tenant,
        on_delete=models.CASCADE,
        from_fields=["tenant_id"],
        to_fields=["id"],
        related_name="restore_requests",
        verbose_name="workspace",
    )
    backup = models.CharField(max_length=255, help_text="Its name in the backups storage.")
    as_subdomain = models.CharField(max_length=63, blank=True, help_text="Empty: restored in place.")
    requested_by = models.CharField(max_length=254, help_text="The operator's email.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.TextField(blank=True, help_text="The restore's steps so far, one a line.")
    result = models.TextField(blank=True)
    # The workspace the restore produced (the same one, or the new one): an id only, as it may be purged.
    restored_tenant_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant_id", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_pending_restore_per_workspace",
            )
        ]
        permissions = [("restore_workspace", "Can restore a workspace from a backup")]

    def __str__(self) -> str:
        return f"restore of {self.backup}"

    @property
    def in_place(self) -> bool:
        return not self.as_subdomain

    @property
    def backup_filename(self) -> str:
        return self.backup.rsplit("/", 1)[-1]

    @property
    def under_way(self) -> bool:
        """Queued, or running for less than ABANDONED_AFTER (past that its worker is gone, and the next
        request on this workspace marks it failed)."""
        if self.status == self.Status.QUEUED:
            return True
        return self.status == self.Status.RUNNING and self.started_at > timezone.now() - self.ABANDONED_AFTER
