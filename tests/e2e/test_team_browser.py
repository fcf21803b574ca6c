"""In a real browser: an owner invites a colleague, who joins from the email link and, as a member,
sees no team administration."""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail

from accounts import signup  # noqa: E402
from tests.support.browser import CHROMIUM, VIEWPORT, in_thread, log_in

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import expect  # noqa: E402

from tests.support.queue import worker_thread_run  # noqa: E402
from tests.support.workspaces import PASSWORD  # noqa: E402

pytestmark = pytest.mark.e2e


def test_owner_invites_and_the_invitee_joins_from_the_email(page, live_server_url, screenshot_dir, settings):
    in_thread(
        signup.workspace_create,
        business_name="Harbour Books",
        subdomain="harbour",
        owner_email="hana@harbour.test",
        owner_name="Hana Harbour",
        owner_password_hash=make_password(PASSWORD),
    )
    origin = f"http://harbour.{settings.BASE_DOMAIN}:{settings.SITE_PORT}"
    mail.outbox = []

    # The owner logs in and invites a colleague from the Team page.
    log_in(page, origin, "hana@harbour.test", PASSWORD)
    page.locator("header").get_by_role("link", name="Team").click()
    page.wait_for_url(f"{origin}/team/")
    page.fill("#id_email", "leo@harbour.test")
    page.select_option("#id_role", "member")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url(f"{origin}/team/")
    expect(page.locator("main")).to_contain_text("Invitation sent to leo@harbour.test")
    page.screenshot(path=screenshot_dir / "team.png", full_page=True)

    # The worker sends the invitation; the colleague opens its link in their own browser.
    in_thread(worker_thread_run, queues=["emails"])
    assert [m.to for m in mail.outbox] == [["leo@harbour.test"]]
    link = re.search(r"http://harbour\.localhost:\d+/invitations/\S+", mail.outbox[0].body).group(0)
    invitee = page.context.browser.new_context(viewport=VIEWPORT).new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Join Harbour Books")
    invitee.fill("#id_full_name", "Leo Lind")
    invitee.fill("#id_password1", PASSWORD)
    invitee.fill("#id_password2", PASSWORD)
    invitee.screenshot(path=screenshot_dir / "invitation.png", full_page=True)
    invitee.get_by_role("button", name="Join the workspace").click()
    invitee.wait_for_url(f"{origin}/")
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Welcome, Leo")

    # As a member, no team administration: not in the menu, and refused by the server.
    header = invitee.locator("header")
    expect(header.get_by_role("link", name="Team")).to_have_count(0)
    expect(header.get_by_role("link", name="Settings")).to_have_count(0)
    response = invitee.goto(f"{origin}/team/")
    assert response.status == 403
    expect(invitee.get_by_role("heading", level=1)).to_have_text("You can't open this page")

    # The owner sees the new member on the Team page.
    page.reload()
    expect(page.locator("main")).to_contain_text("Leo Lind")
