from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Each app describes the emails it sends in its own `emails.py` (see notifications.registry).
        autodiscover_modules("emails")
        from notifications import webhooks  # noqa: F401  (connects anymail's tracking signal)
