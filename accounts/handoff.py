"""Signup hand-off: the signup happens on the public host, but cookies are per host, so the new owner
is logged in on their subdomain with a signed, short-lived, single-use token.

The token names the schema (useless on any other workspace) and the owner's last login at the time it
was made; logging in changes that, so the token works once.
"""

from django.conf import settings
from django.core import signing
from django.db import transaction

from accounts.models import User
from core.db import connection

SALT = "accounts.signup-handoff"


def _last_login_marker(user: User) -> str:
    return user.last_login.isoformat() if user.last_login else ""


def handoff_token_make(*, tenant, email: str) -> str:
    return signing.dumps({"s": tenant.schema_name, "e": email, "l": ""}, salt=SALT, compress=True)


def handoff_email_hint(token: str) -> str:
    """The email in a genuine token, even an expired or used one, to pre-fill the login form."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return ""
    return payload.get("e", "") if payload.get("s") == connection.schema_name else ""


def handoff_user(token: str) -> User | None:
    """The user the token logs in, or None if it is forged, expired, used or for another workspace.
    Must be called inside a transaction: the user row stays locked until the login is recorded."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.SIGNUP_HANDOFF_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("s") != connection.schema_name:
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("handoff_user() must run inside a transaction")
    user = User.objects.select_for_update().filter(email=payload.get("e", ""), is_active=True).first()
    if user is None or _last_login_marker(user) != payload.get("l"):
        return None
    return user
