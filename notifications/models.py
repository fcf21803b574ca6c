from django.db import models
from django.utils import timezone


class EmailLog(models.Model):
    """Every email the portal sends (public schema): queued in the transaction that caused it, then sent
    by the worker, and updated by the provider's delivery webhooks.

    Bodies are not stored: links that carry a secret (password reset, invitation, email change) are made
    when the email is sent, so neither this table nor the job queue ever holds one."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"
        SUPPRESSED = "suppressed", "Not sent: address suppressed"
        SKIPPED = "skipped", "Not sent: no longer applies"

    FAILURES = (Status.FAILED, Status.BOUNCED, Status.COMPLAINED)  # not delivered: the operators' "failed"

    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    tenant_label = models.CharField(max_length=100, blank=True, help_text="The workspace, also after a purge.")
    kind = models.CharField(max_length=40, db_index=True)
    to = models.EmailField()
    params = models.JSONField(default=dict, blank=True, help_text="What the email is about (no secrets).")
    essential = models.BooleanField(default=False, help_text="Sent even to a suppressed address.")
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            # The operators' dashboard: the last email sent, and failures in the last 24 hours.
            models.Index(fields=["sent_at"]),
            models.Index(fields=["created_at"]),
        ]
        verbose_name = "email"

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"


class Suppression(models.Model):
    """An address that bounced hard or complained: it gets only essential email (password reset,
    invitations, account notices) until an operator deletes the suppression."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Hard bounce"
        COMPLAINED = "complained", "Spam complaint"
        MANUAL = "manual", "Added by an operator"

    address = models.EmailField(unique=True, help_text="Lower case.")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs):
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)


class Notice(models.Model):
    """ "This workspace has been told about this occasion": one row per (workspace, kind, occasion), taken in
    the transaction that queues the email, so a reminder or receipt goes out once however often, late or
    concurrently the code that sends it runs. A new occasion (a trial's new end date) is a new row."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=40)
    occasion = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "occasion"], name="notice_once")]
        verbose_name = "notice sent"
        verbose_name_plural = "notices sent (reminders and receipts, once each)"

    def __str__(self) -> str:
        return f"{self.kind} {self.occasion}"
