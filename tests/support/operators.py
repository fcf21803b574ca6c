"""Operators in tests: a superuser with a confirmed authenticator, logged in through the admin's own
two-factor login form with a code computed from the device's secret (as the app on their phone would)."""

from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.support.workspaces import PASSWORD


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


def operator_client_for(user: User, device: TOTPDevice, password: str = PASSWORD) -> Client:
    """A client on the public host, logged in to the admin as the operator with their password and a code."""
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    response = operator_login(client, user.email, password, device)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client
