"""A workspace's own settings pages (accounts): renaming the business, the export an owner downloads (and
the same archive from `manage.py export_tenant`), and closing the workspace, after which it is read-only
for its owners and shut for everyone else. Reopening and purging: tests/tenants/test_workspace_lifecycle.py."""

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import AuditEvent
from tenants.models import Tenant
from tests.support.clients import logged_in_client, workspace_client
from tests.support.queue import outbox
from tests.support.workspaces import PASSWORD, add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    tenant = make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")
    add_member(tenant, "admin@acme.test", "admin")
    add_member(tenant, "mia@acme.test", "member")
    return tenant


def read_zip(content: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_export_contains_exactly_this_workspaces_rows(acme, make_workspace):
    other = make_workspace("other", business_name="Other", owner_email="owner@other.test")
    add_member(other, "secret@other.test", "admin")
    logged_in_client(other).post("/team/", {"email": "pending@other.test", "role": "member"})
    logged_in_client(acme).post("/team/", {"email": "pending@acme.test", "role": "member"})

    response = logged_in_client(acme).get("/settings/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="acme-export-' in response["Content-Disposition"]
    files = read_zip(response.content)
    assert set(files) == {
        "members.csv",
        "members.json",
        "invitations.csv",
        "invitations.json",
        "audit_events.csv",
        "audit_events.json",
        "settings.json",
    }
    members = json.loads(files["members.json"])
    assert sorted(m["email"] for m in members) == ["admin@acme.test", "mia@acme.test", "owner@acme.test"]
    assert [i["email"] for i in json.loads(files["invitations.json"])] == ["pending@acme.test"]
    audit = json.loads(files["audit_events.json"])
    assert {e["action"] for e in audit} >= {"tenant.provisioned", "member.invited"}
    assert len(audit) == AuditEvent.objects.filter(tenant=acme).count() - 1  # the export event comes after
    assert json.loads(files["settings.json"])["subdomain"] == "acme"
    everything = "".join(files.values())
    assert "other" not in everything.lower() and "secret@" not in everything
    assert files["members.csv"].splitlines()[0] == "email,full_name,role,is_active,date_joined,last_login"
    assert AuditEvent.objects.filter(tenant=acme, action="tenant.exported").exists()


def test_export_command_writes_the_same_archive(acme, tmp_path):
    target = tmp_path / "acme.zip"
    call_command("export_tenant", "acme", str(target))
    members = json.loads(read_zip(target.read_bytes())["members.json"])
    assert len(members) == 3


def test_export_command_refuses_an_unknown_subdomain(tmp_path):
    with pytest.raises(CommandError, match="No workspace"):
        call_command("export_tenant", "nope", str(tmp_path / "x.zip"))


def test_settings_rename_the_business_and_are_audited(acme):
    client = logged_in_client(acme, "admin@acme.test")
    assert client.post("/settings/", {"business_name": "  Acme   Ltd ", "billing_email": ""}).status_code == 302
    acme.refresh_from_db()
    assert acme.business_name == "Acme Ltd"
    event = AuditEvent.objects.filter(tenant=acme, action="tenant.settings_changed").get()
    assert event.details == {"business_name": {"from": "Acme", "to": "Acme Ltd"}}
    bad = client.post("/settings/", {"business_name": "   ", "billing_email": ""})
    assert bad.status_code == 400


def test_closing_needs_the_typed_subdomain(acme):
    client = logged_in_client(acme)
    response = client.post("/settings/close/", {"confirm": "acm"})
    assert response.status_code == 400 and "Type acme exactly" in response.content.decode()
    acme.refresh_from_db()
    assert not acme.is_closed


def test_a_closed_workspace_is_read_only_for_owners_and_shut_for_everyone_else(
    acme, django_capture_on_commit_callbacks
):
    owner = logged_in_client(acme)
    member = logged_in_client(acme, "mia@acme.test")
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post("/settings/close/", {"confirm": "ACME"}).status_code == 302
    acme.refresh_from_db()
    assert acme.status == Tenant.Status.CANCELLED and acme.is_closed
    closing_email = outbox()[-1]
    assert closing_email.to == ["owner@acme.test"] and "closed" in closing_email.subject
    assert acme.purge_after.strftime("%-d %B %Y") in closing_email.body

    dashboard = owner.get("/")
    assert dashboard.status_code == 200 and "read-only" in dashboard.content.decode()
    assert owner.get("/settings/export/").status_code == 200
    assert owner.post("/settings/", {"business_name": "Changed", "billing_email": ""}).status_code == 403
    assert owner.post("/team/", {"email": "x@acme.test", "role": "member"}).status_code == 403

    assert member.get("/").status_code == 403  # logged out, with the reason
    assert member.get("/").status_code == 302
    refused = workspace_client(acme).post("/login/", {"username": "mia@acme.test", "password": PASSWORD})
    assert refused.status_code == 200 and "workspace is closed" in refused.content.decode()
    assert logged_in_client(acme).get("/").status_code == 200  # owners can still log in
    assert AuditEvent.objects.filter(tenant=acme, action="tenant.closed").exists()
