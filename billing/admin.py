from django.contrib import admin
from djstripe.models import WebhookEndpoint, WebhookEventTrigger

from billing.models import BillingEvent, Invoice, Plan
from core.admin_base import ReadOnlyAdmin

# dj-stripe registers ~50 model admins with add and change forms over its mirror tables, which we do
# not sync (we act on signed webhook payloads). Hide them, and show what operators need instead.
for model in [m for m in admin.site._registry if m._meta.app_label == "djstripe"]:
    admin.site.unregister(model)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "monthly_price",
        "yearly_price",
        "member_limit",
        "is_public",
        "stripe_price_monthly",
        "stripe_price_yearly",
    ]
    list_editable = ["is_public"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(BillingEvent)
class BillingEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "tenant", "result", "stripe_id", "created"]
    list_filter = ["type"]
    search_fields = ["stripe_id", "tenant__subdomain", "result"]
    list_select_related = ["tenant"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["created", "tenant", "number", "status", "amount_due", "currency"]
    list_filter = ["status"]
    search_fields = ["stripe_id", "number", "tenant__subdomain"]
    list_select_related = ["tenant"]


@admin.register(WebhookEventTrigger)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Every delivery to the webhook URL, valid or not, with its error if processing failed."""

    list_display = ["created", "event_type", "valid", "processed", "exception", "remote_ip"]
    list_filter = ["valid", "processed"]
    fields = ["created", "valid", "processed", "remote_ip", "exception", "traceback", "body", "headers"]
    readonly_fields = fields

    @admin.display(description="Event type")
    def event_type(self, trigger):
        return trigger.json_body.get("type", "-")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "livemode", "status", "api_version", "djstripe_uuid"]
    fields = ["url", "livemode", "status", "api_version", "enabled_events", "djstripe_uuid"]  # never the secret
    readonly_fields = fields
