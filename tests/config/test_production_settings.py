"""Production mode refuses to start with an unsafe configuration (checked in a fresh interpreter)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAFE = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 64,
    "APP_URL": "https://portal.example.org",
    "DATABASE_URL": "postgres://app@db.internal:5432/portal",
    "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


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
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
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
