"""URLs of a workspace host (<subdomain>.BASE_DOMAIN). There is deliberately no admin here."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("legal.urls")),
]
