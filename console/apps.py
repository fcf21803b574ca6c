from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    """The operators' console: dashboard, launch checks, the workspace admin page, backups and restores."""

    default = True
    name = "console"
    verbose_name = "Operations"


class OperatorsAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the operators' site (two factors, throttled login, dashboard) as admin.site."""

    default = False
    default_site = "console.admin_site.OperatorAdminSite"
