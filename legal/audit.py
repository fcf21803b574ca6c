"""The audit actions of `legal` (core/audit.py): terms and privacy acceptance."""

from django.db import models

from core.audit import actions_register


@actions_register
class LegalAction(models.TextChoices):
    LEGAL_ACCEPTED = "legal.accepted", "Terms and privacy policy accepted"
