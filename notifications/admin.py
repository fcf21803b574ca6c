from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin_base import ReadOnlyAdmin
from core.http import client_ip
from notifications import registry, services
from notifications.models import EmailLog, Notice, Suppression
from notifications.render import email_render


@admin.register(EmailLog)
class EmailLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "to", "workspace", "status_display", "attempts", "sent_at"]
    list_filter = ["status", "kind", "essential"]
    search_fields = ["to", "tenant_label", "provider_message_id", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]
    actions = ["send_again"]
    fields = (
        "kind",
        "to",
        "tenant",
        "subject",
        "status",
        "essential",
        "params",
        "attempts",
        "last_error",
        "provider_message_id",
        "created_at",
        "sent_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="Workspace", ordering="tenant_label")
    def workspace(self, email: EmailLog) -> str:
        return email.tenant_label or "—"

    @admin.display(description="Status", ordering="status")
    def status_display(self, email: EmailLog) -> str:
        if email.status == EmailLog.Status.FAILED:
            return format_html('<strong style="color:#b42318" title="{}">failed</strong>', email.last_error)
        return email.get_status_display()

    @admin.action(description="Send again", permissions=["send"])
    def send_again(self, request, queryset):
        queued, gone = 0, 0
        for email in queryset.select_related("tenant"):
            try:
                services.email_send_again(email=email, actor=request.user.email, ip_address=client_ip(request))
            except registry.EmailObsolete:
                gone += 1
            else:
                queued += 1
        if queued:
            self.message_user(request, f"Queued {queued} email(s) again.", messages.SUCCESS)
        if gone:
            self.message_user(
                request, f"Not sent again: {gone} email(s) of a workspace that no longer exists.", messages.WARNING
            )

    def has_send_permission(self, request) -> bool:
        """Sending makes new links (password reset, invitations): operators only, not view-only staff."""
        return request.user.is_superuser

    def get_urls(self):
        preview = path("previews/", self.admin_site.admin_view(self.previews_view), name="notifications_previews")
        return [preview, *super().get_urls()]

    def previews_view(self, request):
        previews = []
        for kind in registry.kinds():
            rendered = email_render(kind.name, kind.sample())
            previews.append({"kind": kind, "rendered": rendered})
        context = {
            **self.admin_site.each_context(request),
            "title": "Email templates",
            "previews": previews,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/notifications/previews.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "previews_url": reverse("admin:notifications_previews")}
        return super().changelist_view(request, extra_context)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses that get only essential email. Delete a row to lift the suppression."""

    list_display = ["address", "reason", "detail", "created_at"]
    list_filter = ["reason"]
    search_fields = ["address"]
    fields = ["address", "reason", "detail"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "kind", "occasion"]
    list_filter = ["kind"]
    search_fields = ["tenant__subdomain", "occasion"]
    list_select_related = ["tenant"]
