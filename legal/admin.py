from django.contrib import admin

from core.admin_base import ReadOnlyAdmin
from legal.models import LegalAcceptance


@admin.register(LegalAcceptance)
class LegalAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["email", "tenant", "document", "version", "accepted_at", "ip_address"]
    list_filter = ["document", "version"]
    search_fields = ["email", "tenant__subdomain"]
    list_select_related = ["tenant"]
