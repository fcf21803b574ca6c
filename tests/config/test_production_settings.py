"""Production mode refuses to start with an unsafe configuration (checked in a fresh interpreter)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import MODULES

ROOT = Path(__file__).resolve().parents[2]
SAFE = {
    "APP_ENV": "production",
    "SECRET_KEY": "s3cret-Key-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    "APP_URL": "https://portal.example.org",
    "DATABASE_URL": "postgres://app@db.internal:5432/portal",
    "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def chosen_by_app_env(env: dict) -> dict:
    """The settings module chosen from APP_ENV as manage.py and wsgi choose it (not pytest's test module)."""
    env = {key: value for key, value in env.items() if key != "DJANGO_SETTINGS_MODULE"}
    return {**env, "DJANGO_SETTINGS_MODULE": settings_module_for(env.get("APP_ENV"))}


def settings_module_for(app_env: str | None) -> str:
    return MODULES.get(app_env or "", "config.settings.base")


def load_settings(**overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "APP_URL")}
    env.update(SAFE)
    env.update({k: v for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        env.pop(key, None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.SECURE_SSL_REDIRECT)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=chosen_by_app_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_safe_production_configuration_starts_with_https_and_debug_off():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"APP_URL": "https://localhost"}, "BASE_DOMAIN"),
        ({"APP_URL": "http://portal.example.org"}, "APP_URL must start with https://"),
        ({"SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "EMAIL_BACKEND"),
        ({"REDIS_URL": None}, "REDIS_URL must be set"),
        ({"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXIES": ""}, "TRUSTED_PROXIES must list"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"}, "not an address or a CIDR network"),
        ({"STRIPE_FAKE": "true"}, "STRIPE_FAKE must be off"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:12111"}, "STRIPE_API_BASE must be"),
        (
            {"BACKUP_S3_BUCKET": "backups", "BACKUP_S3_ENDPOINT_URL": "http://minio.internal:9000"},
            "BACKUP_S3_ENDPOINT_URL must be https://",
        ),
    ],
)
def test_unsafe_production_configuration_refuses_to_start(overrides, problem):
    result = load_settings(**overrides)
    assert result.returncode != 0
    assert "Unsafe production configuration" in result.stderr
    assert problem in result.stderr


def test_production_requires_database_url():
    result = load_settings(DATABASE_URL=None)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_behind_a_proxy_with_its_count_set_starts():
    assert load_settings(BEHIND_TLS_PROXY="true", TRUSTED_PROXIES="127.0.0.1/32").returncode == 0


def manage(*args, **overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "APP_URL")}
    env.update({**SAFE, "DATABASE_URL": os.environ.get("DATABASE_URL", SAFE["DATABASE_URL"])})
    env.update(overrides)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py chooses it from APP_ENV
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_no_issue_for_a_complete_production_environment():
    result = manage("check", "--deploy")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_the_production_problems_are_system_checks_too():
    from core.checks import deploy_check

    assert deploy_check() == []  # not in production: nothing to say


@pytest.mark.parametrize("app_env", ["prod", "staging", ""])
def test_an_unknown_app_env_refuses_to_start(app_env):
    result = load_settings(APP_ENV=app_env)
    assert result.returncode != 0 and "APP_ENV must be development, test or production" in result.stderr


def test_production_mode_never_loads_without_its_refusals():
    """APP_ENV=production with another settings module (which would skip production's checks) refuses to start."""
    env = chosen_by_app_env({**os.environ, **SAFE, "DEBUG": "true"})
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "config.settings.production" in result.stderr


def test_the_public_development_key_is_refused_whenever_debug_is_off():
    result = load_settings(APP_ENV="development", DEBUG="false", SECRET_KEY=None)
    assert result.returncode != 0 and "set SECRET_KEY" in result.stderr


def test_production_cookies_carry_the_host_prefix():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "APP_URL")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=chosen_by_app_env({**env, **SAFE}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["__Host-sessionid", "__Host-csrftoken"], result.stderr
