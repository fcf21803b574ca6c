"""Plan limits on the team, the operators' billing view, and the Stripe set-up command."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from djstripe.models import WebhookEndpoint

from billing.models import BillingAccount, BillingEvent
from billing.webhooks import HANDLED_EVENTS
from core.models import AuditEvent
from tenants.models import Tenant
from tests.support.clients import logged_in_client
from tests.support.stripe_events import event, subscription
from tests.support.workspaces import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace, priced_plans):
    return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


def test_inviting_beyond_the_plans_member_limit_is_refused_with_an_upgrade_prompt(acme):
    for n in range(3):
        add_member(acme, f"m{n}@acme.test")
    owner = logged_in_client(acme)
    assert owner.post("/team/", {"email": "fifth@acme.test", "role": "member"}).status_code == 302  # 5 of 5
    refused = owner.post("/team/", {"email": "sixth@acme.test", "role": "member"})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "Starter plan includes up to 5 members" in body and "Billing page" in body


def test_upgrading_the_plan_makes_room(acme):
    for n in range(4):
        add_member(acme, f"m{n}@acme.test")
    Tenant.objects.filter(pk=acme.pk).update(plan="growth")
    assert logged_in_client(acme).post("/team/", {"email": "new@acme.test", "role": "member"}).status_code == 302


def test_reactivating_beyond_the_limit_is_refused(acme):
    members = [add_member(acme, f"m{n}@acme.test") for n in range(4)]
    owner = logged_in_client(acme)
    owner.post(f"/team/members/{members[0].pk}/deactivate/")
    add_member(acme, "late@acme.test")
    response = owner.post(f"/team/members/{members[0].pk}/reactivate/", follow=True)
    assert "plan includes up to 5 members" in response.content.decode()


@pytest.fixture
def operator(operator_client):
    return operator_client


def test_operators_see_plan_subscription_amount_and_stripe_customer(acme, operator, customer_of, deliver):
    cus = customer_of(acme, "cus_acme")
    deliver(event("customer.subscription.created", subscription(cus, status="active", price="price_growth_month")))
    body = operator.get("/admin/tenants/tenant/").content.decode()
    assert "Growth" in body and ">active<" in body and "49.00 USD" in body
    assert 'href="https://dashboard.stripe.com/test/customers/cus_acme"' in body
    events = operator.get("/admin/billing/billingevent/").content.decode()
    assert "customer.subscription.created" in events and "applied" in events
    deliveries = operator.get("/admin/djstripe/webhookeventtrigger/")
    assert deliveries.status_code == 200 and "customer.subscription.created" in deliveries.content.decode()
    assert operator.get("/admin/billing/billingevent/add/").status_code == 403


def test_operators_comp_a_plan_from_the_admin(acme, operator):
    operator.post(
        "/admin/tenants/tenant/", {"action": "comp_plan", "_selected_action": [acme.pk], "plan": "scale", "days": ""}
    )
    acme.refresh_from_db()
    assert (acme.plan, acme.status) == ("scale", "active")
    assert BillingAccount.objects.get(tenant=acme).comped
    assert AuditEvent.objects.filter(tenant=acme, action="billing.comped", actor="op@example.com").exists()


def test_operators_edit_plans_in_the_admin(operator, priced_plans):
    assert operator.get(f"/admin/billing/plan/{priced_plans['growth'].pk}/change/").status_code == 200


def test_stripe_setup_creates_the_endpoint_and_stores_its_secret(fake_stripe):
    call_command("stripe_setup")
    [created] = fake_stripe.calls("POST", "/v1/webhook_endpoints")
    endpoint = WebhookEndpoint.objects.get()
    assert created["params"]["url"] == f"http://localhost/stripe/webhook/{endpoint.djstripe_uuid}/"
    subscribed = sorted(value for key, value in created["params"].items() if key.startswith("enabled_events"))
    assert subscribed == HANDLED_EVENTS  # exactly the events the webhook acts on
    assert endpoint.secret.startswith("whsec_")
    call_command("stripe_setup")  # idempotent
    assert len(fake_stripe.calls("POST", "/v1/webhook_endpoints")) == 1
    assert WebhookEndpoint.objects.count() == 1


def test_stripe_setup_replace_deletes_the_old_endpoint(fake_stripe):
    call_command("stripe_setup")
    old = WebhookEndpoint.objects.get()
    call_command("stripe_setup", replace=True)
    new = WebhookEndpoint.objects.get()
    assert new.id != old.id and new.djstripe_uuid != old.djstripe_uuid
    assert len(fake_stripe.calls("DELETE", f"/v1/webhook_endpoints/{old.id}")) == 1


def test_stripe_setup_needs_keys(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="STRIPE_SECRET_KEY"):
        call_command("stripe_setup")


def test_the_endpoint_secret_is_not_shown_in_the_admin(operator, endpoint):
    body = operator.get(f"/admin/djstripe/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in body
    assert BillingEvent.objects.count() == 0
