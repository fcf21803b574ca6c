from django.contrib import admin

# dj-stripe registers ~50 models with add/change forms. Stripe is the source of truth for that data and
# the billing issue brings purpose-made pages (webhook events, subscriptions); until then, hide them so
# nobody hand-edits Stripe mirrors. dj-stripe's admin loads first: it is earlier in INSTALLED_APPS.
for model in [m for m in admin.site._registry if m._meta.app_label == "djstripe"]:
    admin.site.unregister(model)
