"""URLs of the public host (BASE_DOMAIN): marketing, signup, legal pages and the operators' admin."""

from django.contrib import admin
from django.urls import include, path

from accounts import operator_views
from accounts import views as account_views
from billing import fake_stripe_views
from billing import views as billing_views
from billing.webhooks import stripe_webhook

urlpatterns = [
    path("", billing_views.landing, name="landing"),
    path("signup/", account_views.signup, name="signup"),
    path("admin/", admin.site.urls),
    path("operators/2fa/<str:token>/", operator_views.enrol, name="operator_2fa"),
    # Stripe webhooks, verified against the signing secret of the WebhookEndpoint named by the uuid.
    path("stripe/webhook/<uuid:uuid>/", stripe_webhook, name="stripe_webhook"),
    # The email provider's delivery events (bounces, complaints), behind ANYMAIL_WEBHOOK_SECRET.
    path("anymail/", include("notifications.urls")),
    path("", include("legal.urls")),
    # The fake Stripe: 404 unless STRIPE_FAKE (development only; production refuses it).
    path("fake-stripe/v1/<path:path>", fake_stripe_views.api),
    path("fake-stripe/checkout/<str:session_id>", fake_stripe_views.checkout, name="fake_stripe_checkout"),
    path("fake-stripe/portal/<str:session_id>", fake_stripe_views.portal, name="fake_stripe_portal"),
]

# PostgreSQL or Redis unreachable: 503 with Retry-After; any other error: the usual 500 (core/errors.py).
handler500 = "core.errors.server_error"
