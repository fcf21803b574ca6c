"""The job admin: Procrastinate's own (status, arguments, Retry / Cancel / Abort actions) plus each
job's last error, and the list of failed attempts."""

from django.contrib import admin
from django.utils.html import format_html
from procrastinate.contrib.django.admin import ProcrastinateJobAdmin
from procrastinate.contrib.django.models import ProcrastinateJob

from core.admin_base import ReadOnlyAdmin
from core.models import JobFailure

admin.site.unregister(ProcrastinateJob)


@admin.register(ProcrastinateJob)
class JobAdmin(ProcrastinateJobAdmin):
    list_display = [*ProcrastinateJobAdmin.list_display, "last_error"]
    fields = [*ProcrastinateJobAdmin.fields, "last_error", "failures"]

    @admin.action(description="Retry failed jobs")
    def retry(self, request, queryset):
        """Procrastinate's own Retry also takes jobs still running, which could then run twice: failed only."""
        return super().retry(request, queryset.filter(status="failed"))

    actions = ["retry", *ProcrastinateJobAdmin.actions[1:]]  # "retry" is looked up on this class: the one above

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "last_error", "failures"]

    @admin.display(description="Last error")
    def last_error(self, job: ProcrastinateJob) -> str:
        failure = JobFailure.objects.filter(job_id=job.pk).first()
        return failure.error if failure else ""

    @admin.display(description="Failed attempts")
    def failures(self, job: ProcrastinateJob) -> str:
        rows = JobFailure.objects.filter(job_id=job.pk)
        return format_html(
            "<pre style='margin:0; white-space:pre-wrap'>{}</pre>",
            "\n\n".join(f"attempt {f.attempt} at {f.failed_at:%Y-%m-%d %H:%M:%S} UTC\n{f.traceback}" for f in rows)
            or "none",
        )


@admin.register(JobFailure)
class JobFailureAdmin(ReadOnlyAdmin):
    list_display = ["failed_at", "task_name", "job_id", "attempt", "error"]
    list_filter = ["task_name"]
    search_fields = ["error", "task_name"]
    date_hierarchy = "failed_at"
