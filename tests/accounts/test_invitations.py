"""Invitations: every state of the link, the email, and workspace scoping."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Invitation
from core.models import AuditEvent
from tests.support.clients import logged_in_client, workspace_client
from tests.support.email import link_in
from tests.support.queue import outbox
from tests.support.workspaces import PASSWORD, users_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


def invite(client, email="new@acme.test", role="member", capture=None):
    if capture is None:
        return client.post("/team/", {"email": email, "role": role})
    with capture(execute=True):
        return client.post("/team/", {"email": email, "role": role})


def test_invitation_email_link_lets_the_invitee_join_logged_in(acme, django_capture_on_commit_callbacks):
    owner = logged_in_client(acme)
    assert invite(owner, role="admin", capture=django_capture_on_commit_callbacks).status_code == 302
    message = outbox()[-1]
    assert message.to == ["new@acme.test"]
    assert "Acme" in message.subject and "Acme" in message.alternatives[0][0]
    assert message.anymail_test_params["metadata"]["workspace"] == "acme"
    link = link_in(message, "http://acme.localhost/invitations/")

    invitee = workspace_client(acme)
    path = link.removeprefix("http://acme.localhost")
    page = invitee.get(path)
    assert page.status_code == 200 and "new@acme.test" in page.content.decode()
    response = invitee.post(path, {"full_name": "Nia New", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert invitee.get("/").status_code == 200
    joined = {u.email: u for u in users_of(acme)}["new@acme.test"]
    assert (joined.full_name, joined.role) == ("Nia New", "admin")
    assert AuditEvent.objects.filter(tenant=acme, action="member.joined").exists()

    used = workspace_client(acme).get(path)
    assert used.status_code == 410 and "already used" in used.content.decode()


def test_the_token_is_not_stored(acme, django_capture_on_commit_callbacks):
    invite(logged_in_client(acme), capture=django_capture_on_commit_callbacks)
    token = link_in(outbox()[-1], "http://acme.localhost/invitations/").rstrip("/").rsplit("/", 1)[1]
    with schema_context(acme.schema_name):
        stored = Invitation.objects.get()
    assert token not in stored.token_hash and stored.token_hash == Invitation.hash_token(token)


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_expired_and_revoked_links_show_a_clear_page(acme, state, django_capture_on_commit_callbacks):
    owner = logged_in_client(acme)
    invite(owner, capture=django_capture_on_commit_callbacks)
    path = link_in(outbox()[-1], "http://acme.localhost/invitations/").removeprefix("http://acme.localhost")
    with schema_context(acme.schema_name):
        invitation = Invitation.objects.get()
    if state == "expired":
        with schema_context(acme.schema_name):
            Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        text = "has expired"
    else:
        assert owner.post(f"/team/invitations/{invitation.pk}/revoke/").status_code == 302
        text = "withdrawn"
    client = workspace_client(acme)
    for response in (
        client.get(path),
        client.post(path, {"full_name": "X", "password1": PASSWORD, "password2": PASSWORD}),
    ):
        assert response.status_code == 410 and text in response.content.decode()
    assert [u.email for u in users_of(acme)] == ["owner@acme.test"]


def test_an_invitation_link_from_another_workspace_is_not_valid_here(
    make_workspace, django_capture_on_commit_callbacks
):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    b = make_workspace("bravo", owner_email="owner@bravo.test")
    invite(logged_in_client(a), email="new@x.test", capture=django_capture_on_commit_callbacks)
    path = link_in(outbox()[-1], "http://alpha.localhost/invitations/").removeprefix("http://alpha.localhost")
    on_b = workspace_client(b)
    assert on_b.get(path).status_code == 404
    assert on_b.post(path, {"full_name": "X", "password1": PASSWORD, "password2": PASSWORD}).status_code == 404
    assert [u.email for u in users_of(b)] == ["owner@bravo.test"]


def test_unknown_token_is_a_clear_404(acme):
    response = workspace_client(acme).get("/invitations/not-a-real-token/")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_inviting_a_member_or_a_pending_address_says_so(acme):
    owner = logged_in_client(acme)
    assert "already a member" in invite(owner, email="owner@acme.test").content.decode()
    invite(owner, email="new@acme.test")
    again = invite(owner, email="NEW@acme.test")
    assert again.status_code == 400 and "already been invited" in again.content.decode()
    with schema_context(acme.schema_name):
        assert Invitation.objects.count() == 1


def test_resend_renews_the_link_and_kills_the_old_one(acme, django_capture_on_commit_callbacks):
    owner = logged_in_client(acme)
    invite(owner, capture=django_capture_on_commit_callbacks)
    old = link_in(outbox()[-1], "http://acme.localhost/invitations/").removeprefix("http://acme.localhost")
    with schema_context(acme.schema_name):
        invitation = Invitation.objects.get()
        Invitation.objects.update(
            expires_at=timezone.now() - timedelta(days=1), sent_at=timezone.now() - timedelta(days=8)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post(f"/team/invitations/{invitation.pk}/resend/").status_code == 302
    new = link_in(outbox()[-1], "http://acme.localhost/invitations/").removeprefix("http://acme.localhost")
    assert new != old
    client = workspace_client(acme)
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_accepting_checks_the_password(acme, django_capture_on_commit_callbacks):
    invite(logged_in_client(acme), capture=django_capture_on_commit_callbacks)
    path = link_in(outbox()[-1], "http://acme.localhost/invitations/").removeprefix("http://acme.localhost")
    client = workspace_client(acme)
    mismatch = client.post(path, {"full_name": "N", "password1": PASSWORD, "password2": PASSWORD + "x"})
    assert mismatch.status_code == 400 and "do not match" in mismatch.content.decode()
    weak = client.post(path, {"full_name": "N", "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    assert len(users_of(acme)) == 1


def test_pending_invitations_are_listed_with_actions(acme):
    owner = logged_in_client(acme)
    invite(owner, email="pending@acme.test")
    body = owner.get("/team/").content.decode()
    assert "pending@acme.test" in body and "Resend" in body and "Revoke" in body


def test_owner_role_cannot_be_given_by_invitation(acme):
    response = invite(logged_in_client(acme), role="owner")
    assert response.status_code == 400
    with schema_context(acme.schema_name):
        assert not Invitation.objects.exists()


def test_an_invitation_can_be_resent_only_after_a_cooldown(acme, settings):
    import time_machine
    from django.utils import timezone

    owner = logged_in_client(acme)
    invite(owner)
    with schema_context(acme.schema_name):
        invitation = Invitation.objects.get()
    soon = owner.post(f"/team/invitations/{invitation.pk}/resend/", follow=True)
    assert "You can send it again in 10 minutes" in soon.content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        later = owner.post(f"/team/invitations/{invitation.pk}/resend/", follow=True)
    assert "sent again" in later.content.decode().lower() or "resent" in later.content.decode().lower()
    assert AuditEvent.objects.filter(tenant=acme, action="member.invitation_resent").count() == 1


def test_a_workspace_sends_at_most_its_daily_share_of_invitations(acme, settings):
    settings.WORKSPACE_EMAILS_PER_DAY = 2
    owner = logged_in_client(acme)
    for n in range(2):
        assert invite(owner, email=f"p{n}@x.test").status_code == 302
    refused = invite(owner, email="p3@x.test")
    assert "the most it can" in refused.content.decode()
    with schema_context(acme.schema_name):
        assert not Invitation.objects.filter(email="p3@x.test").exists()  # nothing half-done
