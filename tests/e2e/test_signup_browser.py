"""In a real browser: landing -> signup -> logged in on the new workspace -> the operator sees it in the admin.

Screenshots of each step are written to docs/screenshots/ (overwritten on every run).
"""

import re

import pytest

from tests.support.browser import CHROMIUM, in_thread

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from accounts import operator_otp  # noqa: E402
from accounts.models import User  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.support.operators import totp_code  # noqa: E402
from tests.support.workspaces import PASSWORD  # noqa: E402

pytestmark = pytest.mark.e2e

BUSINESS = "Fernhill Bakery"
SUBDOMAIN = "fernhill"
OWNER = "Ada Lovelace"
OWNER_EMAIL = "ada@fernhill.test"
OPERATOR_EMAIL = "operator@portal.test"


def _watch_failures(page) -> list[str]:
    """Collect failed sub-resource loads (stylesheets, images...), JavaScript errors and CSP refusals."""
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(f"page error: {error}"))
    # The Content-Security-Policy refuses inline scripts and foreign sources: a refusal is a broken page.
    page.on(
        "console",
        lambda message: (
            failures.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on(
        "requestfailed",
        # A load cut short by the next navigation is the browser's doing, not a broken page.
        lambda request: (
            failures.append(f"failed: {request.url} {request.failure}")
            if "ERR_ABORTED" not in (request.failure or "")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            failures.append(f"{response.status}: {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    return failures


def test_signup_lands_logged_in_and_operator_sees_workspace(page, live_server_url, screenshot_dir, settings):
    workspace_origin = f"http://{SUBDOMAIN}.{settings.BASE_DOMAIN}:{settings.SITE_PORT}"
    failures = _watch_failures(page)

    # Landing page on the public host.
    response = page.goto(f"{live_server_url}/")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=screenshot_dir / "landing.png", full_page=True)

    # Sign up.
    page.locator("header").get_by_role("link", name="Sign up").click()
    page.wait_for_url(f"{live_server_url}/signup/")
    page.fill("#id_business_name", BUSINESS)
    page.fill("#id_subdomain", SUBDOMAIN)
    page.fill("#id_full_name", OWNER)
    page.fill("#id_email", OWNER_EMAIL)
    page.fill("#id_password", PASSWORD)
    page.check("#id_accept_terms")
    page.screenshot(path=screenshot_dir / "signup.png", full_page=True)
    page.get_by_role("button", name="Create workspace").click()

    # Handed over to the new workspace: one click (a POST) logs the owner in, on the dashboard.
    page.wait_for_url(re.compile(re.escape(f"{workspace_origin}/welcome/")))
    page.get_by_role("button", name="Open my workspace").click()
    page.wait_for_url(f"{workspace_origin}/")
    main = page.locator("main")
    expect(main).to_contain_text(BUSINESS)
    expect(main).to_contain_text(OWNER)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {OWNER.split()[0]}")
    expect(page.locator("header")).to_contain_text(OWNER_EMAIL)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "dashboard.png", full_page=True)

    tenant = in_thread(Tenant.objects.get, subdomain=SUBDOMAIN)
    assert tenant.kind == Tenant.Kind.WORKSPACE
    assert tenant.business_name == BUSINESS

    # A workspace host has no admin.
    response = page.goto(f"{workspace_origin}/admin/")
    assert response.status == 404

    # The operator enrols an authenticator from the one-time link, logs in to the admin on the public
    # host with a code from it, and finds the new workspace.
    in_thread(User.objects.create_superuser, OPERATOR_EMAIL, PASSWORD)
    token = in_thread(operator_otp.enrolment_start, email=OPERATOR_EMAIL)
    page.goto(f"{live_server_url}/operators/2fa/{token}/")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Continue").click()
    qr = page.locator(".qr img")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")  # the QR code is drawn
    page.screenshot(path=screenshot_dir / "operator-2fa.png", full_page=True)
    device = in_thread(lambda: TOTPDevice.objects.get(user__email=OPERATOR_EMAIL))
    page.fill("#code", totp_code(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".codes li")).to_have_count(10)
    # The app's code was just used (a code works once): this login uses one of the recovery codes.
    recovery_code = page.locator(".codes li code").first.inner_text()
    page.goto(f"{live_server_url}/admin/")
    page.wait_for_url(re.compile(re.escape(f"{live_server_url}/admin/login/")))
    page.fill("#id_username", OPERATOR_EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()  # first the password: the page then lists the devices
    page.select_option("#id_otp_device", label="Recovery codes")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", recovery_code)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server_url}/admin/")
    # The admin index is the operators' dashboard: the new workspace is counted and listed as the newest.
    expect(page.locator("#ops-newest")).to_contain_text(SUBDOMAIN)
    expect(page.locator("#ops-signups svg rect")).to_have_count(30)
    page.screenshot(path=screenshot_dir / "admin-dashboard.png", full_page=True)
    response = page.goto(f"{live_server_url}/admin/tenants/tenant/")
    assert response.status == 200
    expect(page.locator("#result_list")).to_contain_text(SUBDOMAIN)
    page.screenshot(path=screenshot_dir / "admin-tenants.png", full_page=True)

    assert failures == []
