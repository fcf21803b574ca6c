from django.apps import AppConfig
from procrastinate.contrib.django.apps import ProcrastinateConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Background jobs"


class QueueConfig(ProcrastinateConfig):
    """Procrastinate's Django app, titled for operators next to the job failures."""

    verbose_name = "Background jobs: the queue"
