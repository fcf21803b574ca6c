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


class LaunchCheckRun(models.Model):
    """One run of `manage.py launch_check`: each item's status, reason and fix, for the admin."""

    ran_at = models.DateTimeField(default=timezone.now, db_index=True)
    environment = models.CharField(max_length=16, help_text="APP_ENV of the run.")
    passed = models.PositiveIntegerField()
    warned = models.PositiveIntegerField()
    failed = models.PositiveIntegerField()
    results = models.JSONField(help_text="One entry per item: name, status, reason, fix.")

    class Meta:
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
