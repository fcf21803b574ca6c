"""Secrets that travel in URLs (the signup hand-off, invitation, password-reset, email-change and operator
two-factor enrolment links)
never reach a log line or an error report: `scrub()` blanks them, and it is applied to every log record
(a logging filter), to Sentry events (`sentry_before_send`) and to gunicorn's access log
(`GunicornLogger`, the Procfile's `--logger-class`)."""

import json
import logging
import re

from gunicorn.glogging import Logger as _GunicornLogger

HIDDEN = "[scrubbed]"
# A token in a path is a long segment (16+ characters); ids such as /team/invitations/12/ are not touched.
TOKEN = r"[^/\s?\"'#]{16,}"
PATTERNS = [
    (re.compile(r"((?:^|[?&\s])token=)[^&\s\"'#]+"), rf"\1{HIDDEN}"),
    (re.compile(rf"(/invitations/){TOKEN}"), rf"\1{HIDDEN}"),
    (re.compile(rf"(/account/email/confirm/){TOKEN}"), rf"\1{HIDDEN}"),
    (re.compile(rf"(/operators/2fa/){TOKEN}"), rf"\1{HIDDEN}"),
    (re.compile(rf"(/password-reset/[A-Za-z0-9_-]+/){TOKEN}"), rf"\1{HIDDEN}"),
]


def scrub(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_deep(value):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_deep(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_deep(item) for item in value)
    return value


class ScrubFilter(logging.Filter):
    """A logging filter (settings.LOGGING) that rewrites each record's message without its secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # The formatter would write the traceback after the filters ran: write it here, scrubbed.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


def sentry_before_send(event: dict, hint: dict) -> dict:
    """Sentry's before_send (and before_breadcrumb): every string of the event, scrubbed."""
    return _scrub_deep(event)


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with the request line, path, query string and referer of each access line
    scrubbed, and every text field escaped for a JSON string (gunicorn.conf.py's access_log_format is a
    JSON object: a quote in a user agent must not break the line)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub(atoms[key])
        return {key: _json_text(value) if isinstance(value, str) else value for key, value in atoms.items()}


def _json_text(value: str) -> str:
    """`value` escaped for the inside of a JSON string, except the quotes: gunicorn escapes those itself."""
    return json.dumps(value)[1:-1].replace('\\"', '"')
