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
