from django.apps import AppConfig
from procrastinate.contrib.django.apps import ProcrastinateConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from django.core.checks import Tags, register

        from config.production import deploy_check

        register(deploy_check, Tags.security, deploy=True)


class QueueConfig(ProcrastinateConfig):
    """Procrastinate's Django app, titled for operators next to the job failures."""

    verbose_name = "Background jobs: the queue"
