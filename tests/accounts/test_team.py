"""Managing the team: deactivation, roles, ownership."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from core.models import AuditEvent
from tests.support.clients import logged_in_client, workspace_client
from tests.support.workspaces import PASSWORD, add_member, users_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    tenant = make_workspace("acme", owner_email="owner@acme.test")
    add_member(tenant, "admin@acme.test", "admin")
    add_member(tenant, "mia@acme.test", "member")
    return tenant


def member(tenant, email) -> User:
    with schema_context(tenant.schema_name):
        return User.objects.get(email=email)


def test_deactivation_ends_live_sessions_at_once_and_blocks_login(acme):
    mia = logged_in_client(acme, "mia@acme.test")
    assert mia.get("/").status_code == 200
    admin = logged_in_client(acme, "admin@acme.test")
    assert admin.post(f"/team/members/{member(acme, 'mia@acme.test').pk}/deactivate/").status_code == 302
    assert mia.get("/").status_code == 302  # her open session no longer works
    relogin = workspace_client(acme).post("/login/", {"username": "mia@acme.test", "password": PASSWORD})
    assert relogin.status_code == 200 and "do not match" in relogin.content.decode()

    admin.post(f"/team/members/{member(acme, 'mia@acme.test').pk}/reactivate/")
    assert logged_in_client(acme, "mia@acme.test").get("/").status_code == 200
    actions = list(AuditEvent.objects.filter(tenant=acme).values_list("action", flat=True))
    assert "member.deactivated" in actions and "member.reactivated" in actions


def test_team_page_lists_members_with_role_status_and_last_login(acme):
    logged_in_client(acme, "mia@acme.test")
    body = logged_in_client(acme, "admin@acme.test").get("/team/").content.decode()
    for text in ("owner@acme.test", "admin@acme.test", "mia@acme.test", "Active", "Never"):
        assert text in body


def test_the_last_owner_cannot_be_demoted_or_deactivated(acme):
    from accounts import services

    owner = member(acme, "owner@acme.test")
    response = logged_in_client(acme).post(f"/team/members/{owner.pk}/role/", {"role": "admin"}, follow=True)
    assert "at least one owner" in response.content.decode()
    assert member(acme, "owner@acme.test").role == "owner"

    second = add_member(acme, "owner2@acme.test", "owner")
    with schema_context(acme.schema_name):
        services.member_deactivate(actor=second, member=owner)  # fine: owner2 remains
        with pytest.raises(services.TeamError, match="at least one active owner"):
            services.member_deactivate(actor=owner, member=second)
        with pytest.raises(services.TeamError, match="at least one owner"):
            services.member_change_role(actor=second, member=second, role="admin")
    assert member(acme, "owner2@acme.test").role == "owner"
    assert member(acme, "owner2@acme.test").is_active


def test_nobody_can_deactivate_themselves(acme):
    admin = logged_in_client(acme, "admin@acme.test")
    response = admin.post(f"/team/members/{member(acme, 'admin@acme.test').pk}/deactivate/", follow=True)
    assert "cannot deactivate yourself" in response.content.decode()
    assert member(acme, "admin@acme.test").is_active


def test_owner_can_make_another_owner_and_demote_themselves_after(acme):
    client = logged_in_client(acme)
    admin_pk = member(acme, "admin@acme.test").pk
    client.post(f"/team/members/{admin_pk}/role/", {"role": "owner"})
    assert member(acme, "admin@acme.test").role == "owner"
    client.post(f"/team/members/{member(acme, 'owner@acme.test').pk}/role/", {"role": "member"})
    assert member(acme, "owner@acme.test").role == "member"


def test_transfer_ownership_swaps_roles_and_updates_the_workspace_contact(acme):
    client = logged_in_client(acme)
    client.post(f"/team/members/{member(acme, 'mia@acme.test').pk}/make-owner/")
    roles = {u.email: u.role for u in users_of(acme)}
    assert roles["mia@acme.test"] == "owner" and roles["owner@acme.test"] == "admin"
    acme.refresh_from_db()
    assert acme.owner_email == "mia@acme.test"
    assert client.get("/settings/export/").status_code == 403  # the former owner is an admin now


def test_admins_cannot_touch_owners(acme):
    admin = logged_in_client(acme, "admin@acme.test")
    owner_pk = member(acme, "owner@acme.test").pk
    assert admin.post(f"/team/members/{owner_pk}/deactivate/").status_code == 403
    assert admin.post(f"/team/members/{owner_pk}/role/", {"role": "member"}).status_code == 403
    owner = member(acme, "owner@acme.test")
    assert owner.is_active and owner.role == "owner"


def test_team_actions_on_another_workspaces_member_ids_find_nobody(make_workspace, acme):
    other = make_workspace("other", owner_email="owner@other.test")
    victim = add_member(other, "victim@other.test", "member")
    admin = logged_in_client(acme, "admin@acme.test")
    # The same id may exist here; whatever it is, the other workspace's member is untouched.
    admin.post(f"/team/members/{victim.pk}/deactivate/")
    assert member(other, "victim@other.test").is_active


@pytest.mark.parametrize("change", ["demote", "deactivate"])
def test_an_admin_who_may_no_longer_invite_leaves_no_pending_invitation(acme, change):
    from django_tenants.utils import schema_context

    from accounts.models import Invitation

    add_member(acme, "ada@acme.test", role="admin")
    logged_in_client(acme, "ada@acme.test").post("/team/", {"email": "guest@x.test", "role": "member"})
    owner = logged_in_client(acme)
    with schema_context(acme.schema_name):
        ada = User.objects.get(email="ada@acme.test")
    if change == "demote":
        owner.post(f"/team/members/{ada.pk}/role/", {"role": "member"})
    else:
        owner.post(f"/team/members/{ada.pk}/deactivate/")
    with schema_context(acme.schema_name):
        assert Invitation.objects.get(email="guest@x.test").status == Invitation.Status.REVOKED
    assert AuditEvent.objects.filter(tenant=acme, action="member.invitations_revoked").exists()
