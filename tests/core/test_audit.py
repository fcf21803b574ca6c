"""The audit trail (core/audit.py) across every app: one writer, one action enum, an actor kind on every
event. The operators' list of it: tests/console/test_audit_admin.py."""

import pytest

from accounts.audit import MemberAction
from billing.audit import BillingAction
from console.audit import ConsoleAction
from core.audit import action_choices, audit_record
from core.models import ActorKind, AuditEvent
from legal.audit import LegalAction
from notifications.audit import EmailAction
from tenants import services
from tenants.audit import TenantAction
from tests.support.clients import logged_in_client, workspace_client
from tests.support.email import link_in
from tests.support.queue import jobs_run, outbox
from tests.support.workspaces import PASSWORD, add_member

pytestmark = pytest.mark.django_db
NEW = "a brand new passphrase 77"


def events(tenant) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list("action", "actor_kind"))


def test_a_free_string_is_refused(make_workspace):
    tenant = make_workspace("acme")
    with pytest.raises(ValueError):
        audit_record(tenant=tenant, actor="system", action="tenant.did_something_new")
    assert not AuditEvent.objects.filter(action="tenant.did_something_new").exists()


def test_actor_kinds_follow_who_acted(make_workspace, operator_client):
    tenant = make_workspace("acme")
    assert events(tenant) == [(TenantAction.TENANT_PROVISIONED, ActorKind.OWNER)]
    operator_client.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [tenant.pk], "days": ""})
    services.tenant_activate(tenant=tenant, actor="system")
    member = add_member(tenant, "mia@acme.test")
    owner = logged_in_client(tenant)
    owner.post(f"/team/members/{member.pk}/deactivate/")
    assert events(tenant)[1:] == [
        (TenantAction.TENANT_SUSPENDED, ActorKind.OPERATOR),
        (TenantAction.TENANT_ACTIVATED, ActorKind.SYSTEM),
        (MemberAction.MEMBER_DEACTIVATED, ActorKind.OWNER),
    ]


def test_password_change_reset_and_profile_change_are_audited(make_workspace, django_capture_on_commit_callbacks):
    tenant = make_workspace("acme")
    add_member(tenant, "mia@acme.test")
    mia = logged_in_client(tenant, "mia@acme.test")
    mia.post("/account/", {"save_profile": "1", "full_name": "Mia Meyer"})
    mia.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    client = workspace_client(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/password-reset/", {"email": "mia@acme.test"})
    jobs_run()
    path = link_in(outbox()[-1], f"http://{tenant.host}/password-reset/").removeprefix(f"http://{tenant.host}")
    form_page = client.get(path, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": PASSWORD + "!", "new_password2": PASSWORD + "!"})
    assert events(tenant)[1:] == [
        (MemberAction.MEMBER_PROFILE_CHANGED, ActorKind.MEMBER),
        (MemberAction.MEMBER_PASSWORD_CHANGED, ActorKind.MEMBER),
        (MemberAction.MEMBER_PASSWORD_RESET, ActorKind.MEMBER),
    ]
    changed = AuditEvent.objects.get(tenant=tenant, action=MemberAction.MEMBER_PASSWORD_CHANGED)
    assert changed.actor == "mia@acme.test" and changed.ip_address == "127.0.0.1"
    assert PASSWORD not in str(changed.details) and NEW not in str(changed.details)


def test_actions_come_from_the_enum_and_every_member_is_written_somewhere():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = {
        path: path.read_text()
        for app in ("tenants", "accounts", "billing", "notifications", "legal", "core", "console")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
    }
    for path, text in sources.items():
        assert not re.search(r'action\s*=\s*"[a-z_]+\.[a-z_]+"', text), f"{path}: a free string as an audit action"
    code = "\n".join(sources.values())
    registered = [TenantAction, MemberAction, BillingAction, LegalAction, EmailAction, ConsoleAction]
    unused = [
        f"{actions.__name__}.{member.name}"
        for actions in registered
        for member in actions
        if f"{actions.__name__}.{member.name}" not in code
    ]
    assert unused == [], f"actions no service writes: {unused}"
    assert {value for actions in registered for value in actions.values} == {value for value, _ in action_choices()}
