"""Sending through the queue: retries with backoff, failures operators can see and retry, suppressions,
"send again", emails that no longer apply."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine
from anymail.exceptions import AnymailRecipientsRefused
from django.core import mail
from django.db import connection

from core.models import ActorKind, AuditEvent, JobFailure
from notifications.audit import EmailAction
from notifications.models import EmailLog, Suppression
from notifications.services import email_queue
from tenants.models import Tenant
from tests.support.clients import logged_in_client, workspace_client
from tests.support.email import FlakyBackend, link_in
from tests.support.queue import jobs_by_status, jobs_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.support.email.FlakyBackend"
    default_error = FlakyBackend.error
    yield FlakyBackend
    FlakyBackend.failures_left, FlakyBackend.error = 0, default_error


def test_nothing_is_sent_before_the_worker_runs(acme):
    email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    assert mail.outbox == []
    assert jobs_by_status("notifications.deliver") == {"todo": 1}
    jobs_run()
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]


def test_a_provider_failing_twice_then_working_sends_the_email_once(acme, flaky):
    flaky.failures_left = 2
    email = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    jobs_run()
    email.refresh_from_db()
    assert len(mail.outbox) == 1
    assert (email.status, email.attempts) == ("sent", 3)
    assert JobFailure.objects.filter(task_name="notifications.deliver").count() == 2
    assert jobs_by_status("notifications.deliver") == {"succeeded": 1}


def test_the_retries_back_off_over_about_an_hour():
    from notifications.tasks import EMAIL_RETRY

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        decisions = [
            EMAIL_RETRY.get_retry_decision(exception=Exception(), job=SimpleNamespace(attempts=n)) for n in range(5)
        ]
    waits = [(decision.retry_at - now).total_seconds() for decision in decisions[:4]]
    assert decisions[4] is None  # five tries in all
    assert waits == sorted(waits) and 40 * 60 <= sum(waits) <= 70 * 60


def test_an_email_that_always_fails_ends_failed_and_visible_then_retried_from_the_admin(acme, flaky, operator_client):
    flaky.failures_left = 99
    email = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    jobs_run()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 5) and "provider unavailable" in email.last_error
    assert jobs_by_status("notifications.deliver") == {"failed": 1}
    assert mail.outbox == []

    listing = operator_client.get("/admin/notifications/emaillog/?status=failed").content.decode()
    assert "owner@acme.test" in listing and "failed" in listing
    jobs = operator_client.get("/admin/procrastinate/procrastinatejob/?status=failed").content.decode()
    assert "AnymailAPIError: provider unavailable" in jobs

    flaky.failures_left = 0  # the provider is back
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM procrastinate_jobs WHERE status = 'failed'")
        job_id = cursor.fetchone()[0]
    response = operator_client.post(
        "/admin/procrastinate/procrastinatejob/", {"action": "retry", "_selected_action": [job_id], "index": 0}
    )
    assert response.status_code == 302
    jobs_run()
    email.refresh_from_db()
    assert email.status == "sent" and len(mail.outbox) == 1


def test_send_again_from_the_admin(acme, operator_client):
    email = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    jobs_run()
    response = operator_client.post(
        "/admin/notifications/emaillog/", {"action": "send_again", "_selected_action": [email.pk], "index": 0}
    )
    assert response.status_code == 302
    jobs_run()
    assert len(mail.outbox) == 2
    assert EmailLog.objects.filter(kind="welcome", tenant=acme, status="sent").count() == 2
    resent = AuditEvent.objects.get(action=EmailAction.EMAIL_RESENT)
    assert (resent.tenant, resent.actor, resent.actor_kind) == (acme, "op@example.com", ActorKind.OPERATOR)
    assert resent.details["email"] == email.pk and resent.ip_address == "127.0.0.1"


def test_an_email_of_a_purged_workspace_is_not_sent_again(acme, operator_client):
    kept = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    orphan = EmailLog.objects.create(kind="welcome", to="owner@gone.test", tenant=None, tenant_label="gone")
    jobs_run()
    response = operator_client.post(
        "/admin/notifications/emaillog/",
        {"action": "send_again", "_selected_action": [kept.pk, orphan.pk], "index": 0},
        follow=True,
    )
    page = response.content.decode()
    assert "Queued 1 email(s) again." in page
    assert "Not sent again: 1 email(s) of a workspace that no longer exists." in page
    assert EmailLog.objects.filter(to="owner@gone.test").count() == 1  # nothing queued for it
    assert [event.details["email"] for event in AuditEvent.objects.filter(action=EmailAction.EMAIL_RESENT)] == [kept.pk]


def test_the_workspace_admin_page_shows_its_emails(acme, operator_client):
    email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    jobs_run()
    page = operator_client.get(f"/admin/tenants/tenant/{acme.pk}/change/").content.decode()
    assert "Emails" in page and "welcome" in page and "owner@acme.test" in page


def test_a_suppressed_address_gets_only_essential_email(acme):
    Suppression.objects.create(address="OWNER@acme.test", reason="bounced")
    reminder = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    assert reminder.status == "suppressed"
    workspace_client(acme).post("/password-reset/", {"email": "owner@acme.test"})
    jobs_run()
    assert [m.tags for m in mail.outbox] == [["password_reset"]]


def test_an_email_about_something_gone_is_skipped(acme):
    owner = logged_in_client(acme)
    owner.post("/team/", {"email": "new@acme.test", "role": "member"})
    from django_tenants.utils import schema_context

    from accounts.models import Invitation

    with schema_context(acme.schema_name):
        Invitation.objects.update(revoked_at="2026-01-01T00:00:00Z")
    jobs_run()
    email = EmailLog.objects.get(kind="invitation")
    assert email.status == "skipped" and "revoked" in email.last_error
    assert mail.outbox == []


def test_the_template_previews_show_every_email(operator_client):
    from notifications import registry

    page = operator_client.get("/admin/notifications/emaillog/previews/")
    assert page.status_code == 200
    body = page.content.decode()
    for kind in registry.kinds():
        assert f'id="{kind.name}"' in body
    assert len(registry.kinds()) == 13
    assert body.count('srcdoc="&lt;!doctype html&gt;') == 13  # the whole HTML part, escaped into the frame
    assert "Preview email templates" in operator_client.get("/admin/notifications/emaillog/").content.decode()


def test_an_address_the_provider_refuses_fails_at_once_without_retries(acme, flaky):
    flaky.failures_left, flaky.error = 1, AnymailRecipientsRefused("all recipients were rejected")
    email = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    jobs_run()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1) and "rejected" in email.last_error
    assert jobs_by_status("notifications.deliver") == {"succeeded": 1}  # nothing left to retry


def test_an_email_that_cannot_be_built_ends_failed_too(acme):
    broken = email_queue(kind="invitation", to="x@acme.test", tenant=acme, params={})  # no invitation id
    jobs_run()
    broken.refresh_from_db()
    assert (broken.status, broken.attempts) == ("failed", 5) and "KeyError" in broken.last_error


def test_retries_and_send_again_carry_the_same_working_invitation_link(acme, flaky, operator_client):
    flaky.failures_left = 1
    logged_in_client(acme).post("/team/", {"email": "new@acme.test", "role": "member"})
    jobs_run()
    email = EmailLog.objects.get(kind="invitation")
    assert (email.status, email.attempts) == ("sent", 2)
    operator_client.post(
        "/admin/notifications/emaillog/", {"action": "send_again", "_selected_action": [email.pk], "index": 0}
    )
    jobs_run()
    first, second = (link_in(message, "http://acme.localhost/invitations/") for message in mail.outbox)
    assert first == second
    assert workspace_client(acme).get(first.removeprefix("http://acme.localhost")).status_code == 200


def test_an_email_still_queued_when_its_workspace_is_purged_is_not_sent(acme):
    from datetime import timedelta

    from django.utils import timezone

    from tenants import services

    email = email_queue(kind="welcome", to=acme.owner_email, tenant=acme)
    services.tenant_close(tenant=acme, actor="owner@acme.test")
    Tenant.objects.filter(pk=acme.pk).update(closed_at=timezone.now() - timedelta(days=365))
    services.tenants_purge_due()
    assert not EmailLog.objects.filter(pk=email.pk).exists()  # its log went with it
    jobs_run()
    assert mail.outbox == []
    assert jobs_by_status("notifications.deliver") == {"succeeded": 2}  # the welcome and the closing notice


def test_password_reset_requests_for_one_address_collapse_while_one_waits(acme):
    client = workspace_client(acme)
    for _ in range(3):
        client.post("/password-reset/", {"email": "owner@acme.test"})
    assert jobs_by_status("accounts.password_reset_request") == {"todo": 1}
    jobs_run()
    assert len(mail.outbox) == 1
