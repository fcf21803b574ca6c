"""A workspace's page in the operators' admin, in headless Chromium: usage, invoices, backups with a restore
that the worker ran, emails and the audit trail, and the restore's confirmation page. Screenshots:
admin-workspace.png, admin-workspace-restore.png and admin-restore-done.png."""

from datetime import timedelta

import pytest

from tenants.audit import TenantAction
from tests.support.browser import in_thread

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from accounts import signup
from accounts.models import User  # noqa: E402
from billing.models import BillingAccount, Invoice  # noqa: E402
from console import backups, restores  # noqa: E402
from console.models import RestoreRequest  # noqa: E402
from core.audit import audit_record
from notifications.models import EmailLog  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.support.operators import operator_create, totp_code  # noqa: E402
from tests.support.workspaces import PASSWORD, add_member  # noqa: E402

pytestmark = pytest.mark.e2e

OPERATOR_EMAIL = "operator@portal.test"


def _workspace_with_history() -> Tenant:
    """A workspace a few weeks in: members, logins, emails, an export, invoices, two backups and a restore."""
    from django.contrib.auth.hashers import make_password

    tenant = signup.workspace_create(
        business_name="Northwind Traders",
        subdomain="northwind",
        owner_email="nancy@northwind.test",
        owner_name="Nancy Davolio",
        owner_password_hash=make_password(PASSWORD),
    )
    connection.set_schema_to_public()
    now = timezone.now()
    for email, name, days in (
        ("andrew@northwind.test", "Andrew Fuller", 1),
        ("janet@northwind.test", "Janet Leverling", 12),
        ("steven@northwind.test", "Steven Buchanan", 64),
    ):
        add_member(tenant, email, full_name=name)
        with schema_context(tenant.schema_name):
            User.objects.filter(email=email).update(last_login=now - timedelta(days=days))
    with schema_context(tenant.schema_name):
        User.objects.filter(email=tenant.owner_email).update(last_login=now - timedelta(hours=3))
    connection.set_schema_to_public()
    BillingAccount.objects.create(
        tenant=tenant,
        stripe_customer_id="cus_Northwind0001",
        stripe_subscription_id="sub_Northwind0001",
        subscription_status="active",
        interval="month",
        current_period_end=now + timedelta(days=17),
    )
    for n, (status, days) in enumerate((("paid", 44), ("paid", 14), ("open", 0)), start=1):
        Invoice.objects.create(
            tenant=tenant,
            stripe_id=f"in_northwind{n}",
            number=f"NW-000{n}",
            status=status,
            amount_due=4900,
            amount_paid=4900 if status == "paid" else 0,
            currency="usd",
            created=now - timedelta(days=days),
            hosted_invoice_url=f"https://invoice.stripe.com/i/northwind{n}",
        )
    for kind, to, status, days in (
        ("welcome", "nancy@northwind.test", "sent", 44),
        ("invitation", "andrew@northwind.test", "sent", 40),
        ("invitation", "janet@northwind.test", "sent", 40),
        ("invitation", "steven@northwind.tset", "bounced", 39),
        ("receipt", "nancy@northwind.test", "sent", 14),
    ):
        EmailLog.objects.create(
            tenant=tenant,
            tenant_label=tenant.subdomain,
            kind=kind,
            to=to,
            status=status,
            attempts=1,
            created_at=now - timedelta(days=days),
            sent_at=now - timedelta(days=days) if status == "sent" else None,
            last_error="550 5.1.1 mailbox unavailable" if status == "bounced" else "",
        )
    audit_record(tenant=tenant, actor=tenant.owner_email, action=TenantAction.TENANT_EXPORTED)
    first = backups.workspace_backup(tenant=tenant, actor="system")
    backups.workspace_backup(tenant=tenant, actor=OPERATOR_EMAIL)
    request = restores.restore_request_create(tenant=tenant, backup=first.name, requested_by=OPERATOR_EMAIL)
    restores.restore_request_run(request_id=request.pk)
    return tenant


def _operator() -> str:
    _, device = operator_create(OPERATOR_EMAIL, PASSWORD, full_name="Olga Operator")
    return device.persistent_id


def _code() -> str:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return totp_code(TOTPDevice.objects.get(user__email=OPERATOR_EMAIL))


def test_the_workspace_page_and_the_restore_confirmation(page, live_server_url, screenshot_dir, backup_dir):
    tenant = in_thread(_workspace_with_history)
    in_thread(_operator)
    page.goto(f"{live_server_url}/admin/login/?next=/admin/")
    page.fill("#id_username", OPERATOR_EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.select_option("#id_otp_device", label="Authenticator app")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", in_thread(_code))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server_url}/admin/")

    page.goto(f"{live_server_url}/admin/tenants/tenant/{tenant.pk}/change/")
    usage = page.locator("#usage")
    expect(usage.locator("div", has_text="Members").locator("dd")).to_have_text("4")
    expect(usage.locator("div", has_text="Active, last 30 days").locator("dd")).to_have_text("3")
    expect(page.locator("#invoices tbody tr")).to_have_count(3)
    expect(page.locator("#backups tbody tr")).to_have_count(2)
    expect(page.locator("#restores")).to_contain_text("Succeeded")
    expect(page.locator("#emails tbody tr")).to_have_count(5)
    page.screenshot(path=screenshot_dir / "admin-workspace.png", full_page=True)

    page.locator("#backups tbody tr").first.get_by_role("link", name="Restore as new workspace…").click()
    expect(page.locator("h1")).to_contain_text("Restore northwind as a new workspace")
    page.fill("#id_as_subdomain", "northwind-copy")
    page.fill("#id_confirm", "northwind?")
    page.get_by_role("button", name="Restore as a new workspace").click()
    expect(page.locator(".errorlist")).to_contain_text("Type northwind exactly to confirm.")
    page.screenshot(path=screenshot_dir / "admin-workspace-restore.png", full_page=True)

    page.fill("#id_confirm", "northwind")
    page.get_by_role("button", name="Restore as a new workspace").click()
    expect(page.locator(".messagelist")).to_contain_text("This page follows it until it is done.")
    expect(page.locator(".field-status")).to_contain_text("Queued")
    queued = in_thread(lambda: RestoreRequest.objects.get(status="queued").pk)
    in_thread(restores.restore_request_run, request_id=queued)
    # No reload by the test: the page reloads itself while the restore is pending, then stays still.
    expect(page.locator(".field-status")).to_contain_text("Succeeded", timeout=15_000)
    expect(page.locator(".field-restored_workspace a")).to_have_text("northwind-copy")
    expect(page.get_by_text("reloads every")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "admin-restore-done.png", full_page=True)
