"""The audit actions of `console` (core/audit.py): the operators' backups and restores of a workspace."""

from django.db import models

from core.audit import actions_register


@actions_register
class ConsoleAction(models.TextChoices):
    TENANT_BACKED_UP = "tenant.backed_up", "Workspace backed up"
    TENANT_RESTORE_REQUESTED = "tenant.restore_requested", "Restore from a backup requested"
    TENANT_RESTORED = "tenant.restored", "Workspace restored from a backup"
