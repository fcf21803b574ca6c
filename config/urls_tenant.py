"""URLs of a workspace host (<subdomain>.BASE_DOMAIN). There is deliberately no admin here."""

from django.urls import include, path

from tenants import views as tenant_views

urlpatterns = [
    path("", include("accounts.urls")),
    path("settings/", tenant_views.workspace_settings, name="workspace_settings"),
    path("settings/export/", tenant_views.workspace_export, name="workspace_export"),
    path("settings/close/", tenant_views.workspace_close, name="workspace_close"),
    path("billing/", include("billing.urls")),
    path("", include("legal.urls")),
]
