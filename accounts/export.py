"""A workspace's data as a ZIP of CSV and JSON files: what an owner downloads and
`manage.py export_tenant` writes. Only this workspace's rows: its schema's tables and its own
public-schema records. Every export is an audit event (its data left us)."""

import csv
import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import Invitation, User
from core.audit import ActorKind, AuditEvent, audit_record
from tenants.audit import TenantAction
from tenants.models import Tenant

MEMBER_FIELDS = ["email", "full_name", "role", "is_active", "date_joined", "last_login"]
INVITATION_FIELDS = ["email", "role", "status", "created_at", "expires_at", "accepted_at", "revoked_at"]
AUDIT_FIELDS = ["created_at", "action", "actor", "ip_address", "details"]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such cells get a
# leading apostrophe, which spreadsheets show as text and do not run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SUPPORT = "Support"


def csv_cell(value):
    """A CSV cell a spreadsheet shows as text: a dict as JSON, a leading apostrophe before FORMULA_STARTS.
    The operators' audit CSV (console/admin.py) uses it too."""
    if isinstance(value, dict):
        value = json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _table(rows: list[dict], fields: list[str]) -> tuple[str, str]:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return text.getvalue(), json.dumps(rows, cls=DjangoJSONEncoder, indent=2)


def _operator_emails() -> set[str]:
    """The operators (staff of the public schema): their names and addresses stay out of what owners see."""
    with schema_context(get_public_schema_name()):
        return {email.lower() for email in User.objects.filter(is_staff=True).values_list("email", flat=True)}


def audit_for_owners(events) -> list[dict]:
    """A workspace's audit trail as its owners may see it: an operator's action reads "Support", without
    the operator's address or IP."""
    operators = _operator_emails()
    rows = []
    for event in events:
        row = {field: getattr(event, field) for field in AUDIT_FIELDS}
        if (event.actor or "").lower() in operators:
            row["actor"], row["ip_address"] = SUPPORT, None
        rows.append(row)
    return rows


def tenant_export(
    *, tenant: Tenant, actor: str, actor_kind: ActorKind = ActorKind.OWNER, ip_address: str | None = None
) -> bytes:
    with schema_context(tenant.schema_name):
        members = [{field: getattr(u, field) for field in MEMBER_FIELDS} for u in User.objects.order_by("pk")]
        invitations = [
            {field: getattr(i, field) for field in INVITATION_FIELDS} for i in Invitation.objects.order_by("pk")
        ]
    audit = audit_for_owners(AuditEvent.objects.filter(tenant=tenant).order_by("pk"))
    settings = {
        "business_name": tenant.business_name,
        "subdomain": tenant.subdomain,
        "host": tenant.host,
        "plan": tenant.plan,
        "status": tenant.status,
        "trial_ends_at": tenant.trial_ends_at,
        "billing_email": tenant.billing_email,
        "owner_email": tenant.owner_email,
        "created_at": tenant.created_at,
        "closed_at": tenant.closed_at,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows, fields in (
            ("members", members, MEMBER_FIELDS),
            ("invitations", invitations, INVITATION_FIELDS),
            ("audit_events", audit, AUDIT_FIELDS),
        ):
            csv_text, json_text = _table(rows, fields)
            archive.writestr(f"{name}.csv", csv_text)
            archive.writestr(f"{name}.json", json_text)
        archive.writestr("settings.json", json.dumps(settings, cls=DjangoJSONEncoder, indent=2))
    data = buffer.getvalue()
    audit_record(
        tenant=tenant,
        actor=actor,
        actor_kind=actor_kind,
        action=TenantAction.TENANT_EXPORTED,
        details={"bytes": len(data)},
        ip_address=ip_address,
    )
    return data
