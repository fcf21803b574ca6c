"""The audit trail in the operators' admin (console/admin.py): the list filters by workspace and actor kind
and exports CSV, safe to open in a spreadsheet."""

import csv
import io

import pytest

from accounts.audit import MemberAction
from core.audit import audit_record
from core.models import ActorKind, AuditEvent

pytestmark = pytest.mark.django_db


def test_the_operators_list_filters_and_exports_csv(make_workspace, operator_client):
    a, b = make_workspace("alpha"), make_workspace("bravo")
    audit_record(
        tenant=b,
        actor='=HYPERLINK("http://evil")',
        actor_kind=ActorKind.MEMBER,
        action=MemberAction.MEMBER_PROFILE_CHANGED,
    )
    listing = operator_client.get("/admin/core/auditevent/", {"actor_kind__exact": "owner", "tenant__id__exact": a.pk})
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "alpha" in body and "bravo" not in body.split("<tbody>")[1]
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    export = operator_client.post("/admin/core/auditevent/", {"action": "export_csv", "_selected_action": ids})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert {row["workspace"] for row in rows} == {"alpha", "bravo"}
    injected = next(row for row in rows if row["action"] == MemberAction.MEMBER_PROFILE_CHANGED)
    assert injected["actor"].startswith("'=")  # not a formula when opened in a spreadsheet
