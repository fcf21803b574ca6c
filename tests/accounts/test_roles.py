"""The whole role matrix on the server: each role against each action, by direct request."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts import services
from accounts.models import Invitation, User
from tenants.models import Tenant
from tests.support.clients import logged_in_client
from tests.support.workspaces import add_member

pytestmark = pytest.mark.django_db

ALLOWED = {200, 302}
ROLES = ["member", "admin", "owner"]


@pytest.fixture
def world(make_workspace):
    tenant = make_workspace("matrix", owner_email="owner@matrix.test")
    Tenant.objects.filter(pk=tenant.pk).update(plan="growth")  # room for everyone below
    tenant.refresh_from_db()
    add_member(tenant, "admin@matrix.test", "admin")
    add_member(tenant, "member@matrix.test", "member")
    target = add_member(tenant, "target@matrix.test", "member")
    with schema_context(tenant.schema_name):
        owner = User.objects.get(email="owner@matrix.test")
        invitation = services.invitation_create(inviter=owner, email="new@matrix.test", role="member")
        # Sent an hour ago: past the resend cooldown, so only the role decides.
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(hours=1))
        invitation.refresh_from_db()
    return {"tenant": tenant, "target": target, "invitation": invitation}


def actions(world):
    target, invitation, tenant = world["target"].pk, world["invitation"].pk, world["tenant"]
    return {
        "view team": ("get", "/team/", {}),
        "invite": ("post", "/team/", {"email": "someone@matrix.test", "role": "member"}),
        "resend invitation": ("post", f"/team/invitations/{invitation}/resend/", {}),
        "revoke invitation": ("post", f"/team/invitations/{invitation}/revoke/", {}),
        "make admin": ("post", f"/team/members/{target}/role/", {"role": "admin"}),
        "make owner": ("post", f"/team/members/{target}/role/", {"role": "owner"}),
        "deactivate": ("post", f"/team/members/{target}/deactivate/", {}),
        "transfer ownership": ("post", f"/team/members/{target}/make-owner/", {}),
        "view settings": ("get", "/settings/", {}),
        "save settings": ("post", "/settings/", {"business_name": "Renamed", "billing_email": ""}),
        "export": ("get", "/settings/export/", {}),
        "close": ("post", "/settings/close/", {"confirm": tenant.subdomain}),
    }


EXPECTED = {
    # action: lowest role allowed
    "view team": "admin",
    "invite": "admin",
    "resend invitation": "admin",
    "revoke invitation": "admin",
    "make admin": "admin",
    "make owner": "owner",
    "deactivate": "admin",
    "transfer ownership": "owner",
    "view settings": "admin",
    "save settings": "admin",
    "export": "owner",
    "close": "owner",
}


def effect_happened(name: str, world) -> bool:
    tenant = world["tenant"]
    with schema_context(tenant.schema_name):
        target = User.objects.get(pk=world["target"].pk)
        invitation = Invitation.objects.get(pk=world["invitation"].pk)
        return {
            "invite": Invitation.objects.filter(email="someone@matrix.test").exists(),
            "resend invitation": invitation.sent_at > world["invitation"].sent_at,
            "revoke invitation": invitation.revoked_at is not None,
            "make admin": target.role == "admin",
            "make owner": target.role == "owner",
            "deactivate": not target.is_active,
            "transfer ownership": target.role == "owner",
        }.get(name, None)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_role_matrix(world, role, action):
    tenant = world["tenant"]
    client = logged_in_client(tenant, f"{role}@matrix.test")
    method, path, data = actions(world)[action]
    response = getattr(client, method)(path, data)
    allowed = User.ROLE_RANK[role] >= User.ROLE_RANK[EXPECTED[action]]
    if allowed:
        assert response.status_code in ALLOWED, (role, action, response.status_code)
    else:
        assert response.status_code == 403, (role, action, response.status_code)
    happened = effect_happened(action, world)
    if happened is not None:
        assert happened == allowed, (role, action)
    tenant.refresh_from_db()
    if action == "save settings":
        assert (tenant.business_name == "Renamed") == allowed
    if action == "close":
        assert tenant.is_closed == allowed


@pytest.mark.parametrize("role", ROLES)
def test_everyone_can_use_their_own_account(world, role):
    client = logged_in_client(world["tenant"], f"{role}@matrix.test")
    assert client.get("/").status_code == 200
    assert client.get("/account/").status_code == 200
    assert client.post("/account/", {"save_profile": "1", "full_name": f"New {role}"}).status_code == 302


@pytest.mark.parametrize("role", ["member"])
def test_members_see_no_team_or_settings_links(world, role):
    body = logged_in_client(world["tenant"], f"{role}@matrix.test").get("/").content.decode()
    assert 'href="/team/"' not in body and 'href="/settings/"' not in body


def test_admins_cannot_edit_the_billing_email(world):
    tenant = world["tenant"]
    client = logged_in_client(tenant, "admin@matrix.test")
    client.post("/settings/", {"business_name": "Renamed", "billing_email": "evil@elsewhere.test"})
    tenant.refresh_from_db()
    assert tenant.business_name == "Renamed" and tenant.billing_email == ""
    owner = logged_in_client(tenant, "owner@matrix.test")
    owner.post("/settings/", {"business_name": "Renamed", "billing_email": "billing@matrix.test"})
    tenant.refresh_from_db()
    assert tenant.billing_email == "billing@matrix.test"
