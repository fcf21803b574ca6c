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

    # Schemas are created by tenants.schemas.pool (clone of the template), never implicitly on save().
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
    def workspace_subdomain(self) -> str:
        """A workspace's subdomain, which it has from provisioning on (only the public schema, the template and
        spares have none: asking for theirs is a bug)."""
        if self.subdomain is None:
            raise ValueError(f"{self.schema_name} is not a workspace: it has no subdomain")
        return self.subdomain

    @property
    def host(self) -> str:
        return f"{self.subdomain}.{settings.BASE_DOMAIN}"


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
