"""Emails and tasks for workspace A never read or write workspace B, even when ids and addresses collide."""

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import Invitation, User
from notifications.models import EmailLog
from notifications.services import email_queue
from tests.support.clients import logged_in_client, workspace_client
from tests.support.queue import jobs_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(make_workspace):
    """Two workspaces whose owners share an address and a user id."""
    return make_workspace("alpha", owner_email="same@person.test"), make_workspace(
        "bravo", owner_email="same@person.test"
    )


def snapshot(tenant) -> list:
    with schema_context(tenant.schema_name):
        users = list(
            User.objects.order_by("pk").values_list("pk", "email", "password", "last_login", "session_version")
        )
        invitations = list(Invitation.objects.order_by("pk").values_list("pk", "email", "token_hash", "expires_at"))
    return [users, invitations]


def test_a_password_reset_for_a_runs_in_a_and_links_to_a(pair):
    a, b = pair
    before_b = snapshot(b)
    workspace_client(a).post("/password-reset/", {"email": "same@person.test"})
    jobs_run()
    assert [m.to for m in mail.outbox] == [["same@person.test"]]
    assert "http://alpha.localhost/password-reset/" in mail.outbox[0].body
    assert "bravo" not in mail.outbox[0].body
    assert EmailLog.objects.get().tenant == a
    assert snapshot(b) == before_b
    assert connection.schema_name == "public"


def test_an_invitation_job_for_a_cannot_reach_bs_invitation_with_the_same_id(pair):
    a, b = pair
    logged_in_client(b).post("/team/", {"email": "guest@b.test", "role": "member"})
    with schema_context(b.schema_name):
        b_invitation = Invitation.objects.get()
    jobs_run()
    mail.outbox.clear()
    before_b = snapshot(b)
    # A job that names B's invitation id, but for workspace A (a bug or a forged row): it looks in A only.
    forged = email_queue(
        kind="invitation", to="guest@b.test", tenant=a, params={"invitation_id": b_invitation.pk, "inviter_name": "x"}
    )
    jobs_run()
    forged.refresh_from_db()
    assert forged.status == "skipped" and mail.outbox == []
    assert snapshot(b) == before_b


def test_each_workspaces_emails_carry_only_its_own_links_and_names(pair):
    a, b = pair
    logged_in_client(a).post("/team/", {"email": "new@a.test", "role": "member"})
    logged_in_client(b).post("/team/", {"email": "new@b.test", "role": "member"})
    jobs_run()
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert "http://alpha.localhost/invitations/" in by_recipient["new@a.test"].body
    assert "bravo" not in by_recipient["new@a.test"].body + by_recipient["new@a.test"].alternatives[0][0]
    assert "http://bravo.localhost/invitations/" in by_recipient["new@b.test"].body
    assert "alpha" not in by_recipient["new@b.test"].body + by_recipient["new@b.test"].alternatives[0][0]
    with schema_context(a.schema_name):
        assert list(Invitation.objects.values_list("email", flat=True)) == ["new@a.test"]
    with schema_context(b.schema_name):
        assert list(Invitation.objects.values_list("email", flat=True)) == ["new@b.test"]
