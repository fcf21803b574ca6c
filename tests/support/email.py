"""Emails in tests: a stand-in for the email provider that fails on demand (the provider is out of reach from
tests), and the links in a message."""

import re

from anymail.backends.test import EmailBackend
from anymail.exceptions import AnymailAPIError


class FlakyBackend(EmailBackend):
    """anymail's test backend, refusing the next `failures_left` sends with `error` (by default a provider
    outage, as anymail reports an HTTP 503)."""

    failures_left = 0
    error = AnymailAPIError("provider unavailable (HTTP 503)")

    def send_messages(self, email_messages):
        if FlakyBackend.failures_left:
            FlakyBackend.failures_left -= 1
            raise FlakyBackend.error
        return super().send_messages(email_messages)


def link_in(message, prefix: str) -> str:
    """The first link in an email's text body that starts with `prefix`."""
    match = re.search(re.escape(prefix) + r"\S+", message.body)
    assert match, f"no {prefix} link in: {message.body}"
    return match.group(0)
