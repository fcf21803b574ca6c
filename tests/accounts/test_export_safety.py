"""What an owner downloads cannot run in their spreadsheet, and does not expose the operators."""

import csv
import io
import zipfile

import pytest

from accounts.models import User
from tenants import services
from tests.support.clients import logged_in_client
from tests.support.workspaces import PASSWORD, add_member

pytestmark = pytest.mark.django_db


def export_rows(tenant, name: str) -> list[dict]:
    response = logged_in_client(tenant).get("/settings/export/")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    archive = zipfile.ZipFile(io.BytesIO(content))
    return list(csv.DictReader(io.StringIO(archive.read(f"{name}.csv").decode())))


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+2", "-3+4", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_cells_are_neutralised_in_csv(make_workspace, name):
    acme = make_workspace("acme", owner_email="owner@acme.test")
    add_member(acme, "mallory@acme.test", full_name=name)
    rows = {row["email"]: row for row in export_rows(acme, "members")}
    assert rows["mallory@acme.test"]["full_name"] == "'" + name


def test_operators_appear_as_support_in_the_export(make_workspace):
    acme = make_workspace("acme", owner_email="owner@acme.test")
    User.objects.create_superuser("olga@ops.example", PASSWORD, full_name="Olga")
    services.tenant_suspend(tenant=acme, actor="olga@ops.example", ip_address="198.51.100.9")
    services.tenant_activate(tenant=acme, actor="olga@ops.example", ip_address="198.51.100.9")
    rows = export_rows(acme, "audit_events")
    operator_rows = [row for row in rows if row["action"] in ("tenant.suspended", "tenant.activated")]
    assert len(operator_rows) == 2
    assert {(row["actor"], row["ip_address"]) for row in operator_rows} == {("Support", "")}
    exported = "".join(str(row) for row in rows)
    assert "olga@ops.example" not in exported and "198.51.100.9" not in exported
    assert any(row["actor"] == "owner@acme.test" for row in rows)  # the workspace's own people stay named
