"""Secrets that travel in URLs (the signup hand-off, invitation, password-reset, email-change and operator
two-factor enrolment links)
never reach a log line or an error report: `scrub()` blanks them, and it is applied to every log record
(the log formatter's chain, core/logs.py), to Sentry events (`core.sentry.sentry_event_scrub`, through
`scrub_deep()`) and to gunicorn's access log (`GunicornLogger`, gunicorn.conf.py's `logger_class`)."""

import json
import re
from datetime import UTC, datetime

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


def scrub_deep(value, *, text=scrub, hidden_key=None):
    """`text()` (by default `scrub()`) applied to every string inside `value` (dicts, lists and tuples
    walked); with `hidden_key`, a dict value whose key it accepts is replaced by HIDDEN."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {
            key: HIDDEN if hidden_key and hidden_key(key) else scrub_deep(item, text=text, hidden_key=hidden_key)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub_deep(item, text=text, hidden_key=hidden_key) for item in value)
    return value


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with the request line, path, query string and referer of each access line
    scrubbed, and every text field escaped for a JSON string (gunicorn.conf.py's access_log_format is a
    JSON object: a quote in a user agent must not break the line)."""

    def atoms(self, resp, req, environ, request_time):
        atoms: dict[str, object] = dict(super().atoms(resp, req, environ, request_time))
        for key in ("r", "U", "q", "f"):
            value = atoms.get(key)
            if isinstance(value, str):
                atoms[key] = scrub(value)
        atoms["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")  # as the app's lines
        return {key: _json_text(value) if isinstance(value, str) else value for key, value in atoms.items()}


def _json_text(value: str) -> str:
    """`value` escaped for the inside of a JSON string, except the quotes: gunicorn escapes those itself."""
    return json.dumps(value)[1:-1].replace('\\"', '"')
