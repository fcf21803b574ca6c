"""The settings package. `base` reads every knob from the environment (.env.example) with development
defaults; `production` is base with APP_ENV=production and the refusal of an unsafe configuration;
`test` is base with APP_ENV=test and what only the test suite wants (pytest loads it, pyproject.toml).

manage.py, config/wsgi.py and config/asgi.py call `settings_module()` to load the module that APP_ENV
names, so operators keep setting only APP_ENV."""

import os
from pathlib import Path

if os.environ.get("DJANGO_SETTINGS_MODULE") == "config.settings":
    # The package holds no settings: before it was one, this name was the settings module.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_SETTINGS_MODULE=config.settings names the settings package: unset it (manage.py and wsgi choose "
        "the module from APP_ENV) or name config.settings.base, .production or .test."
    )

MODULES = {"production": "config.settings.production", "test": "config.settings.test"}


def settings_module() -> str:
    """The module for APP_ENV, read from the environment or, like the settings do, from .env."""
    app_env = os.environ.get("APP_ENV")
    if app_env is None:
        dotenv = Path(__file__).resolve().parent.parent.parent / ".env"
        if dotenv.exists():
            import environ

            environ.Env.read_env(dotenv, overwrite=False)
            app_env = os.environ.get("APP_ENV")
    return MODULES.get(app_env or "", "config.settings.base")
