"""In a real browser, offline: the owner opens Billing, chooses a plan, pays on the fake Stripe's Checkout
page (the portal's STRIPE_FAKE server: its API, Checkout page and signed webhooks, all over HTTP), and
comes back to an active subscription that keeps the trial's remaining days."""

import pytest
import stripe
from django.contrib.auth.hashers import make_password

from accounts import signup  # noqa: E402
from tests.support.browser import CHROMIUM, in_thread, log_in

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import expect  # noqa: E402

from billing import fake_stripe_views  # noqa: E402
from billing.models import BillingAccount, Plan  # noqa: E402
from tests.support.workspaces import PASSWORD  # noqa: E402

pytestmark = pytest.mark.e2e


def _price_plans(prices: dict[str, tuple[str, str]]) -> None:
    for slug, (monthly, yearly) in prices.items():
        Plan.objects.filter(slug=slug).update(stripe_price_monthly=monthly, stripe_price_yearly=yearly)


@pytest.fixture
def stripe_fake_server(live_server_url, settings):
    """STRIPE_FAKE on the live server: stripe-python and dj-stripe call it over HTTP, as in `make run`."""
    settings.STRIPE_FAKE = True
    settings.STRIPE_SECRET_KEY = "sk_test_FakeStripeForDevelopment000"
    settings.STRIPE_API_BASE = f"{live_server_url}/fake-stripe"
    previous = stripe.api_base, stripe.default_http_client
    stripe.api_base = settings.STRIPE_API_BASE
    stripe.default_http_client = stripe.RequestsClient(timeout=30)
    fake_stripe_views.engine.cache_clear()
    yield fake_stripe_views.engine()
    stripe.api_base, stripe.default_http_client = previous
    fake_stripe_views.engine.cache_clear()


def test_owner_subscribes_through_checkout_and_the_webhooks_make_the_workspace_paid(
    page, live_server_url, screenshot_dir, settings, stripe_fake_server
):
    before = {
        p.slug: (p.stripe_price_monthly, p.stripe_price_yearly) for p in in_thread(lambda: list(Plan.objects.all()))
    }
    in_thread(_price_plans, {slug: (f"price_{slug}_month", f"price_{slug}_year") for slug in before})
    try:
        tenant = in_thread(
            signup.workspace_create,
            business_name="Quay Cafe",
            subdomain="quay",
            owner_email="quinn@quay.test",
            owner_name="Quinn Quay",
            owner_password_hash=make_password(PASSWORD),
        )
        origin = f"http://quay.{settings.BASE_DOMAIN}:{settings.SITE_PORT}"
        log_in(page, origin, "quinn@quay.test", PASSWORD)
        page.locator("header").get_by_role("link", name="Billing").click()
        page.wait_for_url(f"{origin}/billing/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
        page.screenshot(path=screenshot_dir / "billing.png", full_page=True)

        growth = page.locator("article.plan", has_text="Growth")
        growth.get_by_role("button", name="Choose plan (monthly)").click()
        page.wait_for_url(f"{live_server_url}/fake-stripe/checkout/cs_test_*")
        expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to Growth")
        page.get_by_role("button", name="Pay (test)").click()
        page.wait_for_url(f"{origin}/billing/")
        expect(page.locator("body")).to_contain_text("Thank you")
        expect(page.locator("article.plan.current")).to_contain_text("Growth")
        expect(page.locator(".stat", has_text="Next invoice")).to_contain_text("49.00 USD")
        page.screenshot(path=screenshot_dir / "billing-subscribed.png", full_page=True)

        account = in_thread(lambda: BillingAccount.objects.select_related("tenant").get(tenant_id=tenant.pk))
        assert (account.subscription_status, account.tenant.plan, account.tenant.status) == (
            "trialing",
            "growth",
            "trialing",
        )
        [checkout] = stripe_fake_server.calls("POST", "/v1/checkout/sessions")
        assert checkout["params"]["subscription_data[trial_end]"] == str(int(account.tenant.trial_ends_at.timestamp()))
    finally:
        in_thread(_price_plans, before)
