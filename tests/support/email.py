"""A stand-in for the email provider that fails on demand (the provider is out of reach from tests)."""

from anymail.backends.test import EmailBackend
from anymail.exceptions import AnymailAPIError


class FlakyBackend(EmailBackend):
    """anymail's test backend, refusing the next `failures_left` sends as a provider outage would."""

    failures_left = 0

    def send_messages(self, email_messages):
        if FlakyBackend.failures_left:
            FlakyBackend.failures_left -= 1
            raise AnymailAPIError("provider unavailable (HTTP 503)")
        return super().send_messages(email_messages)
