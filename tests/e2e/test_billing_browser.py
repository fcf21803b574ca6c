"""In a real browser: the owner opens Billing, clicks "Choose plan" and is sent to Stripe Checkout (the
fake Stripe answers the API; the browser's request to checkout.stripe.com is answered locally)."""

import pytest
from django.contrib.auth.hashers import make_password

from tests.e2e.conftest import CHROMIUM, in_thread, log_in

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import expect  # noqa: E402

from billing.models import Plan  # noqa: E402
from tenants import services  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402

pytestmark = pytest.mark.e2e


def _price_plans(prices: dict[str, tuple[str, str]]) -> None:
    for slug, (monthly, yearly) in prices.items():
        Plan.objects.filter(slug=slug).update(stripe_price_monthly=monthly, stripe_price_yearly=yearly)


def test_owner_chooses_a_plan_and_lands_on_stripe_checkout(
    page, live_server_url, screenshot_dir, settings, fake_stripe
):
    before = {
        p.slug: (p.stripe_price_monthly, p.stripe_price_yearly) for p in in_thread(lambda: list(Plan.objects.all()))
    }
    in_thread(_price_plans, {slug: (f"price_{slug}_month", f"price_{slug}_year") for slug in before})
    try:
        in_thread(
            services.tenant_provision,
            business_name="Quay Cafe",
            subdomain="quay",
            owner_email="quinn@quay.test",
            owner_name="Quinn Quay",
            owner_password_hash=make_password(PASSWORD),
        )
        origin = f"http://quay.{settings.BASE_DOMAIN}:{settings.SITE_PORT}"
        page.route(
            "https://checkout.stripe.com/**",
            lambda route: route.fulfill(
                status=200, content_type="text/html", body="<h1>Stripe Checkout (test stand-in)</h1>"
            ),
        )

        log_in(page, origin, "quinn@quay.test", PASSWORD)
        page.locator("header").get_by_role("link", name="Billing").click()
        page.wait_for_url(f"{origin}/billing/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
        page.screenshot(path=screenshot_dir / "billing.png", full_page=True)

        growth = page.locator("article.plan", has_text="Growth")
        growth.get_by_role("button", name="Choose plan (monthly)").click()
        page.wait_for_url("https://checkout.stripe.com/c/pay/cs_test_*")
        expect(page.get_by_role("heading", level=1)).to_have_text("Stripe Checkout (test stand-in)")

        [checkout] = fake_stripe.calls("POST", "/v1/checkout/sessions")
        assert checkout["params"]["line_items[0][price]"] == "price_growth_month"
        assert checkout["params"]["success_url"] == f"{origin}/billing/return/?result=success"
    finally:
        in_thread(_price_plans, before)
