from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from core.logs import logged_in, login_failed

        user_logged_in.connect(logged_in, dispatch_uid="log-login")
        user_login_failed.connect(login_failed, dispatch_uid="log-login-failed")
