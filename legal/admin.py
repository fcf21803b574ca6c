from django.contrib import admin

from legal.models import LegalAcceptance


@admin.register(LegalAcceptance)
class LegalAcceptanceAdmin(admin.ModelAdmin):
    list_display = ["email", "tenant", "document", "version", "accepted_at", "ip_address"]
    list_filter = ["document", "version"]
    search_fields = ["email", "tenant__subdomain"]
    list_select_related = ["tenant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
