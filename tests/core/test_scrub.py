"""Tokens in URLs never reach a log line, an error report or gunicorn's access log."""

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from core.scrub import GunicornLogger, scrub
from core.sentry import sentry_event_scrub

SECRET = "Zq9-secret_TOKEN.abc"


@pytest.mark.parametrize(
    "text",
    [
        f"GET /welcome/?token={SECRET} HTTP/1.1",
        f"http://acme.localhost/welcome/?next=/&token={SECRET}",
        f"Not Found: /invitations/{SECRET}/",
        f"/account/email/confirm/{SECRET}/",
        f"/password-reset/MQ/{SECRET}/",
        f"GET /operators/2fa/{SECRET}/ HTTP/1.1",
    ],
)
def test_secrets_in_urls_are_blanked(text):
    assert SECRET not in scrub(text) and "[scrubbed]" in scrub(text)


def test_what_is_not_secret_stays():
    for text in ("/password-reset/sent/", "/password-reset/done/", "/team/invitations/12/resend/", "GET /login/"):
        assert scrub(text) == text


def formatted(record_maker) -> str:
    """What the settings' log formatter (core/logs.py) writes for the record `record_maker` logs."""
    import io

    from core.logs import formatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(json=True))
    logger = logging.getLogger("scrub-test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        record_maker(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_log_records_are_scrubbed():
    text = formatted(lambda logger: logger.warning("Not Found: %s", f"/invitations/{SECRET}/"))
    assert SECRET not in text and "/invitations/[scrubbed]/" in text


def test_tracebacks_in_log_records_are_scrubbed_too():
    def log(logger):
        try:
            raise ValueError(f"bad link /invitations/{SECRET}/")
        except ValueError:
            logger.exception("Internal Server Error: /x/")

    text = formatted(log)
    assert "ValueError" in text and SECRET not in text


def test_settings_format_every_log_line_through_the_scrubbing_formatter():
    from django.conf import settings

    handler = settings.LOGGING["handlers"]["stderr"]
    assert settings.LOGGING["formatters"][handler["formatter"]]["()"] == "core.logs.formatter"
    assert settings.LOGGING["root"]["handlers"] == ["stderr"]


def test_sentry_events_are_scrubbed():
    event = {
        "request": {"url": f"https://acme.example.com/welcome/?token={SECRET}", "query_string": f"token={SECRET}"},
        "exception": {"values": [{"value": f"bad link /account/email/confirm/{SECRET}/"}]},
        "breadcrumbs": {"values": [{"message": f"GET /invitations/{SECRET}/"}]},
    }
    assert SECRET not in str(sentry_event_scrub(event, {}))


def test_gunicorn_access_lines_are_scrubbed():
    from gunicorn.config import Config

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/welcome/?token={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/welcome/",
        "QUERY_STRING": f"token={SECRET}",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    atoms = GunicornLogger(Config()).atoms(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=5))
    assert SECRET not in atoms["r"] and SECRET not in atoms["q"] and atoms["r"].startswith("GET /welcome/?token=")
