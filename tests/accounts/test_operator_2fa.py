"""Operators' two-factor authentication: enrolment from a one-time link, and an admin that a password
alone does not open."""

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import operator_otp
from accounts.models import User
from tests.support.clients import host_client
from tests.support.operators import operator_create, operator_login, totp_code
from tests.support.workspaces import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def public(settings):
    return host_client(settings.BASE_DOMAIN)


def test_a_password_alone_does_not_open_the_admin(public):
    User.objects.create_superuser("op@example.com", PASSWORD)
    public.post("/admin/login/?next=/admin/", {"username": "op@example.com", "password": PASSWORD, "next": "/admin/"})
    assert public.get("/admin/").status_code == 302
    assert public.login(username="op@example.com", password=PASSWORD)  # a session without the second factor
    assert public.get("/admin/").status_code == 302


def test_password_and_code_open_the_admin(public):
    _, device = operator_create("op@example.com", PASSWORD)
    assert operator_login(public, "op@example.com", PASSWORD, device).status_code == 302
    assert public.get("/admin/").status_code == 200


def _unlock_value(page) -> str:
    import re

    return re.search(r'name="unlock" value="([^"]+)"', page.content.decode()).group(1)


def test_enrolment_from_the_link_confirms_the_device_and_shows_recovery_codes_once(public, capsys):
    User.objects.create_superuser("op@example.com", PASSWORD)
    call_command("operator_2fa", "op@example.com")
    link = capsys.readouterr().out.split()[-1]
    path = link.split("localhost", 1)[1]
    first = public.get(path)
    assert (
        first.status_code == 200 and "data:image/svg+xml" not in first.content.decode()
    )  # the link alone shows no secret
    assert public.post(path, {"password": "wrong"}).status_code == 400
    page = public.post(path, {"password": PASSWORD})
    assert page.status_code == 200 and "data:image/svg+xml;base64," in page.content.decode()
    unlock = _unlock_value(page)
    device = TOTPDevice.objects.get(user__email="op@example.com")
    wrong = public.post(path, {"unlock": unlock, "code": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    done = public.post(path, {"unlock": unlock, "code": totp_code(device)})
    assert done.status_code == 200 and done.content.decode().count("<li><code>") == 10
    assert TOTPDevice.objects.get(user__email="op@example.com").confirmed
    assert StaticToken.objects.filter(device__user__email="op@example.com").count() == 10
    assert public.get(path).status_code == 400  # the link works once


def test_re_enrolling_needs_a_code_from_the_current_device(public, capsys):
    _, current = operator_create("op@example.com", PASSWORD)
    call_command("operator_2fa", "op@example.com")
    path = capsys.readouterr().out.split()[-1].split("localhost", 1)[1]
    assert public.post(path, {"password": PASSWORD}).status_code == 400  # a leaked link + password is not enough
    page = public.post(path, {"password": PASSWORD, "current": totp_code(current)})
    assert page.status_code == 200 and "data:image/svg+xml" in page.content.decode()


def test_a_forged_unlock_shows_nothing(public, capsys):
    User.objects.create_superuser("op@example.com", PASSWORD)
    call_command("operator_2fa", "op@example.com")
    path = capsys.readouterr().out.split()[-1].split("localhost", 1)[1]
    response = public.post(path, {"unlock": "forged", "code": "123456"})
    assert response.status_code == 400 and "data:image/svg+xml" not in response.content.decode()


def test_enrolment_links_are_signed(public):
    assert public.get("/operators/2fa/forged-token/").status_code == 400


def test_only_operators_can_enrol():
    User.objects.create_user("someone@example.com", PASSWORD)
    with pytest.raises(operator_otp.EnrolmentError):
        operator_otp.enrolment_start(email="someone@example.com")
