from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from billing import receivers, stripe_api
        from billing.models import Plan
        from billing.selectors import plan_names_forget

        stripe_api.http_client_install()
        receivers.connect()
        post_save.connect(plan_names_forget, sender=Plan, dispatch_uid="plan-names-saved")
        post_delete.connect(plan_names_forget, sender=Plan, dispatch_uid="plan-names-deleted")
