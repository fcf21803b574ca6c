"""Two-factor authentication for operators (django-otp, TOTP): the admin is django-otp's OTPAdminSite,
which lets in only a user verified by a confirmed device. An operator enrols from a one-time link
(`manage.py operator_2fa <email>`, printed by `bootstrap --demo` too). The link alone reveals nothing:
the page first asks for the operator's password (and, if they already have a device, a current code
from it or a recovery code); only then does it show the QR code for an authenticator app, confirmed by a
first code, after which ten single-use recovery codes are shown once."""

import io
from base64 import b32encode, b64encode

from django.core import signing
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from accounts.models import User

SALT = "accounts.operator-otp-enrolment"
UNLOCK_SALT = "accounts.operator-otp-unlocked"
LINK_MAX_AGE = 60 * 60
UNLOCK_MAX_AGE = 10 * 60
RECOVERY_CODES = 10


class EnrolmentError(Exception):
    pass


@transaction.atomic
def enrolment_start(*, email: str) -> str:
    """A new, unconfirmed authenticator for the operator; returns the signed token of its enrolment link.
    Their confirmed devices keep working until the new one is confirmed."""
    operator = User.objects.filter(email__iexact=email, is_staff=True, is_active=True).first()
    if operator is None:
        raise EnrolmentError(f"No active operator with the address {email}.")
    TOTPDevice.objects.filter(user=operator, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=operator, name="Authenticator app", confirmed=False)
    return signing.dumps({"u": operator.pk, "d": device.pk}, salt=SALT)


def _device(token: str) -> TOTPDevice:
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature as error:
        raise EnrolmentError("This enrolment link is invalid or has expired.") from error
    device = TOTPDevice.objects.filter(pk=data["d"], user_id=data["u"], confirmed=False).select_related("user").first()
    if device is None:
        raise EnrolmentError("This enrolment link was already used.")
    if not (device.user.is_staff and device.user.is_active):
        raise EnrolmentError("This account is no longer an operator.")
    return device


def enrolment_needs_current_code(token: str) -> bool:
    device = _device(token)
    return TOTPDevice.objects.filter(user=device.user, confirmed=True).exists()


def enrolment_unlock(*, token: str, password: str, current_code: str = "") -> str:
    """Check the operator's password (and a code from a device they already have); returns a short-lived
    proof that the page may show the new device's secret."""
    device = _device(token)
    operator = device.user
    if not operator.check_password(password):
        raise EnrolmentError("That password is not right.")
    current = [*TOTPDevice.objects.filter(user=operator, confirmed=True), *StaticDevice.objects.filter(user=operator)]
    code = current_code.strip().replace(" ", "")
    # No code: refuse without trying the devices (a failed try would throttle them for the real one).
    if current and (not code or not any(existing.verify_token(code) for existing in current)):
        raise EnrolmentError("Enter a code from your current authenticator app, or one of your recovery codes.")
    return signing.dumps({"d": device.pk}, salt=UNLOCK_SALT)


def _unlocked(token: str, unlock: str) -> TOTPDevice:
    device = _device(token)
    try:
        data = signing.loads(unlock, salt=UNLOCK_SALT, max_age=UNLOCK_MAX_AGE)
    except signing.BadSignature as error:
        raise EnrolmentError("Please enter your password again.") from error
    if data.get("d") != device.pk:
        raise EnrolmentError("Please enter your password again.")
    return device


def enrolment_page(*, token: str, unlock: str) -> dict:
    device = _unlocked(token, unlock)
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)
    return {
        "email": device.user.email,
        # An image from a data: URI (the CSP allows them for images): inline SVG with namespaced
        # elements, as qrcode writes it, would not be drawn inside an HTML page.
        "qr_data_uri": "data:image/svg+xml;base64," + b64encode(svg.getvalue()).decode(),
        "secret": b32encode(device.bin_key).decode(),
        "unlock": unlock,
    }


@transaction.atomic
def enrolment_confirm(*, token: str, unlock: str, code: str) -> list[str]:
    """Confirm the device with a first code from the app; returns new recovery codes (shown once)."""
    device = _unlocked(token, unlock)
    if not device.verify_token(code.strip().replace(" ", "")):
        raise EnrolmentError("That code is not right. Check the time on your phone and try the current code.")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    StaticDevice.objects.filter(user=device.user).delete()
    recovery = StaticDevice.objects.create(user=device.user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    return codes
