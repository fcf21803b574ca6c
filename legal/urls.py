from django.urls import path

from legal import views

app_name = "legal"
urlpatterns = [
    path("terms/", views.document, {"kind": "terms"}, name="terms"),
    path("privacy/", views.document, {"kind": "privacy"}, name="privacy"),
]
