"""Operators in tests: a superuser with a confirmed authenticator, logged in through the admin's own
two-factor login form with a code computed from the device's secret (as the app on their phone would)."""

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def operator_create(email: str, password: str, **fields) -> tuple[User, TOTPDevice]:
    operator = User.objects.create_superuser(email, password, **fields)
    device = TOTPDevice.objects.create(user=operator, name="Authenticator app", confirmed=True)
    return operator, device


def totp_code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


def operator_login(client: Client, email: str, password: str, device: TOTPDevice):
    """POST the admin login form: address, password, device and the current code."""
    return client.post(
        "/admin/login/?next=/admin/",
        {
            "username": email,
            "password": password,
            "otp_device": device.persistent_id,
            "otp_token": totp_code(device),
            "next": "/admin/",
        },
    )
