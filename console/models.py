"""The console's own records: launch-check runs and restore requests."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class LaunchCheckRun(models.Model):
    """One run of `manage.py launch_check`: each item's status, reason and fix, for the admin."""

    ran_at = models.DateTimeField(default=timezone.now, db_index=True)
    environment = models.CharField(max_length=16, help_text="APP_ENV of the run.")
    passed = models.PositiveIntegerField()
    warned = models.PositiveIntegerField()
    failed = models.PositiveIntegerField()
    results = models.JSONField(help_text="One entry per item: name, status, reason, fix.")

    class Meta:
        db_table = "core_launchcheckrun"  # the table it had in core: moving the model moved no row
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"launch check {self.ran_at:%Y-%m-%d %H:%M} ({self.environment})"

    @staticmethod
    def report_lines(results: list[dict]) -> list[str]:
        """The report of `results` (one dict per item, as the field stores them): a line per item, and under an item
        that did not pass, its fix. For the command's output and the admin's page."""
        lines = []
        for item in results:
            lines.append(f"{item['status']}  {item['name']}: {item['reason']}")
            if item["fix"] and item["status"] != "PASS":
                lines.append(f"      fix: {item['fix']}")
        return lines


class RestoreRequest(models.Model):
    """An operator's request to restore a workspace from one of its backups, run by the worker
    (console.tasks.restore_workspace), with the restore's progress and outcome for the admin.

    The link to Tenant is a ForeignObject over a plain id column, not a ForeignKey, on purpose: a workspace
    backup carries every public row with a ForeignKey to Tenant as the workspace's own data (console/backups/),
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
        settings.TENANT_MODEL,
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
        db_table = "tenants_restorerequest"  # the table it had in tenants: moving the model moved no row
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant_id", "-created_at"], name="tenants_res_tenant__b785a4_idx")]
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
        return (
            self.status == self.Status.RUNNING
            and self.started_at is not None
            and self.started_at > timezone.now() - self.ABANDONED_AFTER
        )
