"""Fixtures for the browser tests: a live server in a thread and Debian's headless Chromium.

pytest-django's `live_server` is deliberately not used: it forces `transactional_db`, which flushes the
shared test database and with it the template schema and the spare pool. The server here runs on the
committed database instead (`committed_db` removes what the test made), so requests from the browser
and the test's own queries see the same committed rows.
"""

from pathlib import Path

import pytest
from django.db import connection
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, TIMEOUT_MS, VIEWPORT


@pytest.fixture
def live_server_url(committed_db, settings):
    """Serve the portal on 127.0.0.1:<free port>; links and redirects point at http://*.localhost:<port>/.

    Yields the public site's origin, e.g. "http://localhost:53127". Stopped before `committed_db` cleans
    up, so no request thread still holds a workspace's schema when it is dropped."""
    assert connection.settings_dict["NAME"].startswith("test_"), "refusing to serve outside the test database"
    server = LiveServerThread("127.0.0.1", _StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    port = server.port
    settings.APP_URL = f"http://{settings.BASE_DOMAIN}:{port}"
    settings.SITE_SCHEME = "http"
    settings.SITE_PORT = port
    try:
        yield settings.APP_URL
    finally:
        server.terminate()


@pytest.fixture
def page(live_server_url):
    """A fresh headless Chromium page (no cookies) per test.

    Playwright's sync API keeps an asyncio loop marked as running in this thread, so Django refuses ORM
    calls here while it is up (SynchronousOnlyOperation): the test makes them with `in_thread`
    (tests/support/browser.py). Chromium is shut down before the live server stops and before the
    committed rows are cleaned up."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
            context.close()
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
