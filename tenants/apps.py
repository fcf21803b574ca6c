from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Operations"

    def ready(self) -> None:
        from tenants import routing

        routing.connect_signals()
