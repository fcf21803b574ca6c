from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Operations"

    def ready(self) -> None:
        from notifications.services import email_resent
        from tenants import routing, services

        routing.connect_signals()
        email_resent.connect(services._email_resent_audit, dispatch_uid="tenants.email_resent_audit")
