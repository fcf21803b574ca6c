import json
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobFailure(models.Model):
    """One failed attempt of a background job, with its error: Procrastinate keeps a job's status but not
    why it failed, and operators need the why next to the Retry button."""

    job_id = models.BigIntegerField(db_index=True)
    task_name = models.CharField(max_length=128)
    attempt = models.PositiveIntegerField(help_text="1 for the first run.")
    error = models.TextField()
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-failed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.job_id} attempt {self.attempt}"


class ActorKind(models.TextChoices):
    """Who made an audited change. The caller says which: it knows (core/audit.py)."""

    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    OPERATOR = "operator", "Operator"
    SYSTEM = "system", "System"
    STRIPE = "stripe", "Stripe"


class AuditEvent(models.Model):
    """Who did what to which workspace. Written by the service that made the change through
    core.audit.audit_record, never by hand. `action` is one of the actions the apps register
    (core/audit.py): stored without choices, so a new action needs no migration."""

    tenant = models.ForeignKey(settings.TENANT_MODEL, null=True, on_delete=models.SET_NULL, related_name="audit_events")
    # Kept apart from the FK so the trail stays readable after a workspace is purged.
    tenant_label = models.CharField(max_length=100, blank=True)
    actor = models.CharField(max_length=254, help_text="Email of the person, or 'system'.")
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices, default=ActorKind.SYSTEM, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    # Every registered action and its label, filled by core.audit.actions_register from each app's audit.py.
    ACTION_LABELS: ClassVar[dict[str, str]] = {}

    class Meta:
        # The table it had when it lived in tenants: moving the model moved no row.
        db_table = "tenants_auditevent"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="tenants_aud_tenant__e4e645_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.tenant_label} by {self.actor}"

    @property
    def action_label(self) -> str:
        return self.ACTION_LABELS.get(self.action, self.action)

    @property
    def details_json(self) -> str:
        """Its details as the operators' admin shows and exports them: JSON, keys sorted."""
        return json.dumps(self.details, sort_keys=True)
