"""The owner's Billing page, Checkout and the Customer Portal, against Stripe's wire format."""

import pytest

from billing.models import BillingAccount
from tests.support.clients import logged_in_client, workspace_client
from tests.support.stripe_events import event, invoice, subscription
from tests.support.workspaces import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


def test_choose_plan_creates_the_customer_once_and_a_subscription_checkout(acme, fake_stripe, priced_plans):
    owner = logged_in_client(acme)
    response = owner.post("/billing/checkout/", {"plan": "growth", "interval": "year", "attempt": "click-1"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")

    [customer] = fake_stripe.calls("POST", "/v1/customers")
    assert customer["params"]["email"] == "owner@acme.test"
    assert customer["params"]["metadata[tenant_id]"] == str(acme.pk)
    assert customer["headers"]["Idempotency-Key"] == f"customer-tenant-{acme.pk}"
    assert customer["headers"]["Stripe-Version"] == "2024-06-20"

    [checkout] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    params = checkout["params"]
    assert params["mode"] == "subscription"
    assert params["customer"] == BillingAccount.objects.get(tenant=acme).stripe_customer_id
    assert params["line_items[0][price]"] == "price_growth_year"
    assert params["line_items[0][quantity]"] == "1"
    assert params["metadata[tenant_id]"] == str(acme.pk)
    assert params["subscription_data[metadata][tenant_id]"] == str(acme.pk)
    assert params["client_reference_id"] == str(acme.pk)
    assert params["success_url"] == "http://acme.localhost/billing/return/?result=success"
    assert params["cancel_url"] == "http://acme.localhost/billing/return/?result=cancel"
    assert checkout["headers"]["Idempotency-Key"] == f"checkout-{acme.pk}-growth-year-click-1"

    owner.post("/billing/checkout/", {"plan": "scale", "interval": "month"})
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1  # the customer is reused


def test_manage_billing_opens_the_customer_portal(acme, fake_stripe, priced_plans, customer_of):
    customer_of(acme, "cus_acme")
    response = logged_in_client(acme).post("/billing/portal/", {"attempt": "p1"})
    assert response["Location"].startswith("https://billing.stripe.com/p/session/")
    [portal] = fake_stripe.calls("POST", "/v1/billing_portal/sessions")
    assert portal["params"] == {"customer": "cus_acme", "return_url": "http://acme.localhost/billing/"}
    assert portal["headers"]["Idempotency-Key"] == f"portal-{acme.pk}-p1"


def test_a_stripe_outage_shows_try_again_not_an_error(acme, fake_stripe, priced_plans):
    fake_stripe.down = True
    owner = logged_in_client(acme)
    for response in (
        owner.post("/billing/checkout/", {"plan": "growth", "interval": "month"}),
        owner.post("/billing/portal/"),
    ):
        assert response.status_code == 503
        assert "try again" in response.content.decode()


def test_without_stripe_keys_billing_says_it_is_not_configured(acme, settings):
    settings.STRIPE_SECRET_KEY = ""
    owner = logged_in_client(acme)
    page = owner.get("/billing/")
    assert page.status_code == 200 and "Billing is not configured" in page.content.decode()
    assert "Choose plan" not in page.content.decode()
    refused = owner.post("/billing/checkout/", {"plan": "growth", "interval": "month"})
    assert refused.status_code == 503 and "not configured" in refused.content.decode()
    assert owner.get("/").status_code == 200  # everything else works


def test_a_plan_without_a_stripe_price_is_refused_gently(acme, fake_stripe):
    response = logged_in_client(acme).post("/billing/checkout/", {"plan": "growth", "interval": "month"})
    assert response.status_code == 503
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []


def test_unknown_plans_and_intervals_are_refused(acme, fake_stripe, priced_plans):
    owner = logged_in_client(acme)
    for data in ({"plan": "nope", "interval": "month"}, {"plan": "growth", "interval": "week"}):
        assert owner.post("/billing/checkout/", data).status_code == 302
    assert fake_stripe.requests == []


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_owners_reach_billing(acme, fake_stripe, priced_plans, role):
    add_member(acme, f"{role}@acme.test", role)
    client = logged_in_client(acme, f"{role}@acme.test")
    assert client.get("/billing/").status_code == 403
    assert client.post("/billing/checkout/", {"plan": "growth", "interval": "month"}).status_code == 403
    assert client.post("/billing/portal/").status_code == 403
    assert fake_stripe.requests == []


def test_billing_page_shows_plan_status_trial_and_plans(acme, fake_stripe, priced_plans):
    body = logged_in_client(acme).get("/billing/").content.decode()
    for text in ("Starter", "Growth", "Scale", "Trialing", "14 days left", "No invoices yet", "Choose plan"):
        assert text in body


def test_returning_from_checkout_says_what_happened(acme, fake_stripe):
    owner = logged_in_client(acme)
    assert "Thank you" in owner.get("/billing/return/?result=success", follow=True).content.decode()
    assert "nothing was charged" in owner.get("/billing/return/?result=cancel", follow=True).content.decode()


def test_landing_page_shows_the_plans_from_the_database(public_client, priced_plans):
    priced_plans["growth"].name = "Growth Plus"
    priced_plans["growth"].save()
    assert "Growth Plus" in public_client.get("/").content.decode()


def test_anonymous_billing_goes_to_login(acme):
    assert workspace_client(acme).get("/billing/")["Location"].startswith("/login/")


def test_stripe_calls_have_a_timeout_and_no_silent_retries(settings):
    import stripe

    client = stripe.default_http_client  # what BillingConfig.ready() installed (no fake in this test)
    assert isinstance(client, stripe.RequestsClient)
    assert client._timeout == settings.STRIPE_TIMEOUT_SECONDS
    assert stripe.max_network_retries == 0


def test_a_workspace_sees_only_its_own_invoices(make_workspace, priced_plans, customer_of, deliver):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    b = make_workspace("bravo", owner_email="owner@bravo.test")
    deliver(event("invoice.paid", invoice(customer_of(a), inv_id="in_alpha0001", status="paid")))
    deliver(event("invoice.paid", invoice(customer_of(b), inv_id="in_bravo0002", status="paid")))
    body = logged_in_client(a).get("/billing/").content.decode()
    assert "INV-ALPHA0001" in body and "INV-BRAVO0002" not in body


def test_the_next_invoice_is_stripes_preview_in_its_currency(acme, fake_stripe, priced_plans, customer_of, deliver):
    cus = customer_of(acme, "cus_acme")
    deliver(event("customer.subscription.created", subscription(cus)))
    fake_stripe.objects["preview:cus_acme"] = {
        "id": "upcoming_in_1",
        "object": "invoice",
        "amount_due": 123456,  # a prorated upgrade with tax
        "currency": "eur",
        "next_payment_attempt": 1_798_761_600,  # 1 January 2027
    }
    page = logged_in_client(acme).get("/billing/").content.decode()
    assert "1,234.56 EUR" in page and "1 Jan 2027" in page
    [preview] = fake_stripe.calls("POST", "/v1/invoices/create_preview")
    assert preview["params"] == {"customer": "cus_acme", "subscription": "sub_test1"}
    fake_stripe.down = True
    page = logged_in_client(acme).get("/billing/")
    assert page.status_code == 200 and "Stripe could not be reached" in page.content.decode()


def test_a_new_checkout_expires_the_ones_opened_before(acme, fake_stripe, priced_plans):
    owner = logged_in_client(acme)
    owner.post("/billing/checkout/", {"plan": "growth", "interval": "month", "attempt": "tab-1"})
    owner.post("/billing/checkout/", {"plan": "growth", "interval": "year", "attempt": "tab-2"})
    sessions = [obj for obj in fake_stripe.objects.values() if obj.get("object") == "checkout.session"]
    assert sorted(session["status"] for session in sessions) == ["expired", "open"]
    owner.post("/billing/checkout/", {"plan": "growth", "interval": "year", "attempt": "tab-2"})  # a double submit
    sessions = [obj for obj in fake_stripe.objects.values() if obj.get("object") == "checkout.session"]
    tab_2 = [session["status"] for session in sessions if session["metadata"].get("attempt") == "tab-2"]
    assert set(tab_2) == {"open"}  # the same click's session is never expired by its own resubmission
