"""The workspace access policy: every state x role x page x method against the table below, then the
middleware answering it over HTTP for the cases that matter most (scenario 8 of the billing issue)."""

import itertools

import pytest

from billing.access import Outcome, Page, State, decide, refuses_every_page
from billing.models import BillingAccount
from tenants import services as tenant_services
from tenants.models import Tenant
from tests.support.clients import logged_in_client, workspace_client
from tests.support.workspaces import add_member

A, P, S, C, X = Outcome.ALLOW, Outcome.PAYMENT_REQUIRED, Outcome.SUSPENDED, Outcome.CLOSED, Outcome.CLOSED_LOG_OUT
ROLES = [None, "member", "admin", "owner"]
PAGES = [Page.SIGN_IN, Page.LEGAL, Page.BILLING, Page.JOIN, Page.LEAVE, Page.WORKSPACE]

# For each state and role (anonymous, member, admin, owner): the outcome per page, as
# "sign in, legal, billing, join, leave (settings, export, close), workspace" for a read (GET) / a write (POST).
TABLE = {
    State.OPEN: {role: ([A, A, A, A, A, A], [A, A, A, A, A, A]) for role in ROLES},
    State.PAYMENT_REQUIRED: {
        None: ([A, A, P, P, P, P], [A, A, P, P, P, P]),
        "member": ([A, A, P, P, P, P], [A, A, P, P, P, P]),
        "admin": ([A, A, P, P, P, P], [A, A, P, P, P, P]),
        "owner": ([A, A, A, P, A, P], [A, A, A, P, A, P]),
    },
    State.BILLING_SUSPENDED: {
        None: ([A, A, S, S, S, S], [A, A, S, S, S, S]),
        "member": ([A, A, S, S, S, S], [A, A, S, S, S, S]),
        "admin": ([A, A, S, S, S, S], [A, A, S, S, S, S]),
        "owner": ([A, A, A, S, A, S], [A, A, A, S, A, S]),
    },
    State.OPERATOR_SUSPENDED: {role: ([S] * 6, [S] * 6) for role in ROLES},
    State.CLOSED: {
        None: ([A, A, A, C, A, A], [A, C, C, C, C, C]),
        "member": ([X] * 6, [X] * 6),
        "admin": ([X] * 6, [X] * 6),
        "owner": ([A, A, A, C, A, A], [A, C, C, C, C, C]),
    },
}


@pytest.mark.parametrize("state,role", list(itertools.product(State, ROLES)))
def test_the_policy_matches_the_table(state, role):
    reads, writes = TABLE[state][role]
    for page, expected_read, expected_write in zip(PAGES, reads, writes, strict=True):
        assert decide(state=state, role=role, page=page, write=False) == expected_read, (page, "read")
        assert decide(state=state, role=role, page=page, write=True) == expected_write, (page, "write")


@pytest.mark.parametrize("state", list(State))
def test_only_a_state_that_refuses_every_page_is_refused_before_routing(state):
    every = {outcome for role in ROLES for outcomes in TABLE[state][role] for outcome in outcomes}
    assert refuses_every_page(state) == (every == {Outcome.SUSPENDED})


@pytest.fixture
def acme(db, make_workspace):
    tenant = make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")
    add_member(tenant, "member@acme.test")
    add_member(tenant, "admin@acme.test", role="admin")
    return tenant


def suspend_for_non_payment(tenant) -> None:
    BillingAccount.objects.create(tenant=tenant, stripe_customer_id="cus_acme", subscription_status="past_due")
    tenant_services.tenant_billing_status_set(
        tenant=tenant, status=Tenant.Status.SUSPENDED, action="billing.suspended_unpaid", details={}
    )


def test_owners_of_a_workspace_suspended_for_non_payment_can_log_in_and_pay(acme, fake_stripe):
    suspend_for_non_payment(acme)
    owner = logged_in_client(acme)  # the login page answers
    page = owner.get("/billing/")
    assert page.status_code == 200
    portal = owner.post("/billing/portal/")
    assert portal.status_code == 302 and portal["Location"].startswith("https://billing.stripe.com/")
    blocked = owner.get("/")
    assert blocked.status_code == 403 and "Pay on the Billing page" in blocked.content.decode()
    assert owner.get("/team/").status_code == 403
    assert owner.get("/settings/export/").status_code == 200  # an owner can always take the data and leave
    assert owner.post("/logout/").status_code == 302


@pytest.mark.parametrize("email", ["member@acme.test", "admin@acme.test"])
def test_everyone_else_stays_blocked_while_suspended_for_non_payment(acme, email):
    suspend_for_non_payment(acme)
    client = logged_in_client(acme, email)
    for path in ("/", "/billing/", "/team/", "/settings/"):
        assert client.get(path).status_code == 403, path
    assert client.post("/billing/portal/").status_code == 403
    assert workspace_client(acme).get("/billing/").status_code == 403  # anonymous


def test_an_operators_suspension_stays_absolute(acme):
    owner = logged_in_client(acme)
    tenant_services.tenant_suspend(tenant=acme, actor="op@example.com")
    for path in ("/", "/billing/", "/login/", "/terms/"):
        assert owner.get(path).status_code == 403, path
    assert owner.post("/billing/portal/").status_code == 403
    assert workspace_client(acme).get("/login/").status_code == 403
