from django.contrib import admin
from djstripe import models as djstripe_models
from djstripe.admin import admin as djstripe_admin
from djstripe.models import WebhookEndpoint, WebhookEventTrigger

from billing.models import BillingEvent, Invoice, Plan, money
from core.admin_base import ReadOnlyAdmin

# dj-stripe registers ~50 model admins with add and change forms. We mirror five kinds of object with its
# sync (billing/services.py): keep its pages for those, read-only (Stripe is the source of truth), and
# hide the rest.
for model in [m for m in admin.site._registry if m._meta.app_label == "djstripe"]:
    admin.site.unregister(model)

MIRRORED = [
    (djstripe_models.Customer, djstripe_admin.CustomerAdmin),
    (djstripe_models.Subscription, djstripe_admin.SubscriptionAdmin),
    (djstripe_models.Invoice, djstripe_admin.InvoiceAdmin),
    (djstripe_models.Price, djstripe_admin.PriceAdmin),
    (djstripe_models.Product, djstripe_admin.ProductAdmin),
]
for model, dj_stripe_admin in MIRRORED:
    read_only = type(f"ReadOnly{dj_stripe_admin.__name__}", (ReadOnlyAdmin, dj_stripe_admin), {"actions": []})
    admin.site.register(model, read_only)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "monthly",
        "yearly",
        "member_limit",
        "is_public",
        "stripe_price_monthly",
        "stripe_price_yearly",
    ]
    list_editable = ["is_public"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="Monthly", ordering="monthly_price")
    def monthly(self, plan):
        return money(plan.monthly_amount, plan.currency)

    @admin.display(description="Yearly", ordering="yearly_price")
    def yearly(self, plan):
        return money(plan.yearly_amount, plan.currency)


@admin.register(BillingEvent)
class BillingEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "tenant", "result", "stripe_id", "created"]
    list_filter = ["type"]
    search_fields = ["stripe_id", "tenant__subdomain", "result"]
    list_select_related = ["tenant"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["created", "tenant", "number", "status", "amount"]
    list_filter = ["status"]
    search_fields = ["stripe_id", "number", "tenant__subdomain"]
    list_select_related = ["tenant"]

    @admin.display(description="Amount due", ordering="amount_due")
    def amount(self, invoice):
        return money(invoice.amount_due, invoice.currency)


@admin.register(WebhookEventTrigger)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Every delivery to the webhook URL, valid or not, with its error if processing failed."""

    list_display = ["created", "event_type", "valid", "processed", "exception", "remote_ip"]
    list_filter = ["valid", "processed"]
    fields = ("created", "valid", "processed", "remote_ip", "exception", "traceback", "body", "headers")
    readonly_fields = fields

    @admin.display(description="Event type")
    def event_type(self, trigger):
        return trigger.json_body.get("type", "-")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "livemode", "status", "api_version", "djstripe_uuid"]
    fields = ("url", "livemode", "status", "api_version", "enabled_events", "djstripe_uuid")  # never the secret
    readonly_fields = fields
