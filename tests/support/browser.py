"""Headless Chromium for the browser tests (tests/e2e/, whose conftest.py has the fixtures): Debian's
binary and its options, where screenshots go, and the helpers a test drives the browser with."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 860}
TIMEOUT_MS = 15_000
# `make screenshots` (UPDATE_SCREENSHOTS=1) refreshes the ones docs/ shows; ordinary runs keep theirs
# out of the work tree.
SCREENSHOTS = Path(settings.BASE_DIR) / (
    "docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else "test-artifacts/screenshots"
)


def in_thread(function, *args, **kwargs):
    """Run ORM code in a worker thread, on its own connection (public schema), closed afterwards.

    Playwright's sync API keeps an asyncio loop marked as running in the test's thread, so Django refuses
    ORM calls there while a page is open (SynchronousOnlyOperation)."""

    def run():
        try:
            connection.set_schema_to_public()
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run).result()


def log_in(page, origin: str, email: str, password: str) -> None:
    """Log in through the workspace's login form and wait for the dashboard."""
    page.goto(f"{origin}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{origin}/")
