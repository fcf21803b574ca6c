from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are written by services and only read by operators (audit trail, Stripe events)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
