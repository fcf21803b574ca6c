"""URLs of a workspace host (<subdomain>.BASE_DOMAIN). There is deliberately no admin here."""

from django.urls import include, path

from accounts import api
from accounts import views as account_views

urlpatterns = [
    path("", include("accounts.urls")),
    path("settings/", account_views.workspace_settings, name="workspace_settings"),
    path("settings/export/", account_views.workspace_export, name="workspace_export"),
    path("settings/close/", account_views.workspace_close, name="workspace_close"),
    path("billing/", include("billing.urls")),
    path("api/v1/me", api.me, name="api_me"),
    path("api/v1/workspace", api.workspace, name="api_workspace"),
    path("api/v1/members", api.members, name="api_members"),
    path("", include("legal.urls")),
]

# PostgreSQL or Redis unreachable: 503 with Retry-After; any other error: the usual 500 (core/errors.py).
handler500 = "core.errors.server_error"
