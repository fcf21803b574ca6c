"""The email provider's tracking webhook (Postmark's documented payloads through anymail), protected by
ANYMAIL_WEBHOOK_SECRET: hard bounces and complaints suppress non-essential email to the address."""

import base64
import json

import pytest
from django.core import mail

from notifications.models import EmailLog, Suppression
from notifications.services import email_queue
from tests.support.clients import host_client, workspace_client
from tests.support.queue import jobs_run

pytestmark = pytest.mark.django_db

SECRET = "postmark:s3cret-hook-password"
URL = "/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


def postmark_bounce(email: str, message_id: str, kind: str = "HardBounce") -> dict:
    """https://postmarkapp.com/developer/webhooks/bounce-webhook"""
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "welcome",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "noreply@localhost",
        "BouncedAt": "2026-11-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Welcome",
    }


def postmark_complaint(email: str, message_id: str) -> dict:
    """https://postmarkapp.com/developer/webhooks/spam-complaint-webhook"""
    return {**postmark_bounce(email, message_id), "RecordType": "SpamComplaint", "Type": "SpamComplaint"}


def post(payload: dict, *, credentials: str | None = SECRET):
    headers = {}
    if credentials is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    return host_client("localhost").post(URL, data=json.dumps(payload), content_type="application/json", **headers)


def sent_welcome(acme) -> EmailLog:
    email = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    jobs_run()
    email.refresh_from_db()
    assert email.status == "sent" and email.provider_message_id
    return email


def test_a_hard_bounce_marks_the_email_and_suppresses_non_essential_email(acme):
    email = sent_welcome(acme)
    assert post(postmark_bounce("Owner@Acme.test", email.provider_message_id)).status_code == 200
    email.refresh_from_db()
    assert email.status == "bounced"
    assert Suppression.objects.get(address="owner@acme.test").reason == "bounced"

    mail.outbox.clear()
    reminder = email_queue(kind="trial_ending", to=acme.owner_email, tenant=acme, params={})
    assert reminder.status == "suppressed"
    workspace_client(acme).post("/password-reset/", {"email": "owner@acme.test"})  # essential: still sent
    jobs_run()
    assert [m.tags for m in mail.outbox] == [["password_reset"]]


def test_a_complaint_suppresses_too(acme):
    email = sent_welcome(acme)
    assert post(postmark_complaint("owner@acme.test", email.provider_message_id)).status_code == 200
    email.refresh_from_db()
    assert email.status == "complained"
    assert Suppression.objects.get(address="owner@acme.test").reason == "complained"


def test_a_soft_bounce_changes_nothing(acme):
    email = sent_welcome(acme)
    assert post(postmark_bounce("owner@acme.test", email.provider_message_id, kind="SoftBounce")).status_code == 200
    email.refresh_from_db()
    assert email.status == "sent" and not Suppression.objects.exists()


@pytest.mark.parametrize("credentials", [None, "postmark:wrong", "someone:s3cret-hook-password"])
def test_events_without_the_secret_are_refused(acme, credentials):
    email = sent_welcome(acme)
    response = post(postmark_bounce("owner@acme.test", email.provider_message_id), credentials=credentials)
    assert response.status_code in (400, 401, 403)
    email.refresh_from_db()
    assert email.status == "sent" and not Suppression.objects.exists()


def test_without_a_configured_secret_the_webhook_does_not_exist(acme, settings):
    settings.ANYMAIL = {}
    assert post(postmark_bounce("owner@acme.test", "x"), credentials=None).status_code == 404
    assert not Suppression.objects.exists()


def test_the_webhook_is_only_on_the_public_host(acme):
    response = workspace_client(acme).post(
        URL, data=json.dumps(postmark_bounce("owner@acme.test", "x")), content_type="application/json"
    )
    assert response.status_code == 404
