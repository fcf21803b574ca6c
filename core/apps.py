from django.apps import AppConfig
from procrastinate.contrib.django.apps import ProcrastinateConfig


class CoreConfig(AppConfig):
    # With two AppConfig classes in this module Django picks neither for "core" unless one is the default:
    # without this line ready() never ran and `check --deploy` missed the production refusals.
    default = True
    name = "core"
    verbose_name = "System: audit trail and job failures"

    def ready(self) -> None:
        from django.core.checks import Tags, register
        from django.utils.module_loading import autodiscover_modules

        from core.checks import deploy_check

        register(deploy_check, Tags.security, deploy=True)
        # Each app declares its audit actions in its own `audit.py` (core/audit.py).
        autodiscover_modules("audit")


class QueueConfig(ProcrastinateConfig):
    """Procrastinate's Django app, titled for operators next to the job failures."""

    verbose_name = "Background jobs: the queue"
