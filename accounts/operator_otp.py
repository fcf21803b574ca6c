"""Two-factor authentication for operators (django-otp, TOTP): the admin is django-otp's OTPAdminSite,
which lets in only a user verified by a confirmed device. An operator enrols from a one-time link
(`manage.py operator_2fa <email>`, printed by `bootstrap --demo` too): a page with the QR code for an
authenticator app, confirmed by a first code, then ten single-use recovery codes shown once."""

import io
from base64 import b32encode

from django.core import signing
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from accounts.models import User

SALT = "accounts.operator-otp-enrolment"
LINK_MAX_AGE = 60 * 60
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
    device = TOTPDevice.objects.filter(pk=data["d"], user_id=data["u"], confirmed=False).first()
    if device is None:
        raise EnrolmentError("This enrolment link was already used.")
    return device


def enrolment_page(token: str) -> dict:
    device = _device(token)
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)
    return {"email": device.user.email, "qr_svg": svg.getvalue().decode(), "secret": b32encode(device.bin_key).decode()}


@transaction.atomic
def enrolment_confirm(*, token: str, code: str) -> list[str]:
    """Confirm the device with a first code from the app; returns new recovery codes (shown once)."""
    device = _device(token)
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
