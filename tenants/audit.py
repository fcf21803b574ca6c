"""The audit actions of `tenants` (core/audit.py): a workspace's lifecycle, from signup to purge."""

from django.db import models

from core.audit import actions_register


@actions_register
class TenantAction(models.TextChoices):
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
