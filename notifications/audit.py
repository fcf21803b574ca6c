"""The audit actions of `notifications` (core/audit.py): emails an operator acted on."""

from django.db import models

from core.audit import actions_register


@actions_register
class EmailAction(models.TextChoices):
    EMAIL_RESENT = "email.resent", "Email sent again by an operator"
