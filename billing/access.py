"""The workspace access policy: given the workspace's state, the visitor's role and the kind of page,
may the page answer? The one place that decides; `WorkspaceAccessMiddleware` asks it on every view of a
workspace host, and tests/billing/test_access.py checks every combination against a written table.

Roles within a page (only admins manage the team, only owners see Billing) are the views' business
(`accounts.permissions.role_required`); this decides what a workspace's state leaves open at all.
"""

from enum import StrEnum

from billing.selectors import payment_required
from tenants.models import Tenant


class State(StrEnum):
    OPEN = "open"  # trial running, active, past due (in its grace period), comped
    PAYMENT_REQUIRED = "payment_required"  # trial over unpaid, or the subscription ended
    BILLING_SUSPENDED = "billing_suspended"  # unpaid past the grace period: owners may still pay
    OPERATOR_SUSPENDED = "operator_suspended"  # absolute, until an operator lifts it
    CLOSED = "closed"  # by its owner: read-only for owners until purged


class Page(StrEnum):
    SIGN_IN = "sign_in"  # log in and out, password reset
    LEGAL = "legal"  # terms and privacy
    BILLING = "billing"  # Billing, Checkout, the Customer Portal, the return from Checkout
    JOIN = "join"  # accepting an invitation, the signup hand-off
    LEAVE = "leave"  # the settings page, the data export, closing the workspace
    WORKSPACE = "workspace"  # everything else


class Outcome(StrEnum):
    ALLOW = "allow"
    PAYMENT_REQUIRED = "payment_required"  # 402, "choose a plan"
    SUSPENDED = "suspended"  # 403
    CLOSED = "closed"  # 403
    CLOSED_LOG_OUT = "closed_log_out"  # 403, and the session ends


OWNER = "owner"
SIGN_IN_PAGES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
JOIN_PAGES = {"invitation_accept", "handoff"}
LEAVE_PAGES = {"workspace_settings", "workspace_export", "workspace_close"}


def workspace_state(tenant: Tenant) -> State:
    if tenant.is_closed:
        return State.CLOSED
    if tenant.status == Tenant.Status.SUSPENDED:
        by_billing = tenant.suspended_by == Tenant.SuspendedBy.BILLING
        return State.BILLING_SUSPENDED if by_billing else State.OPERATOR_SUSPENDED
    if payment_required(tenant):
        return State.PAYMENT_REQUIRED
    return State.OPEN


def page_of(*, namespace: str, url_name: str | None) -> Page:
    if namespace == "legal":
        return Page.LEGAL
    if namespace == "billing":
        return Page.BILLING
    if namespace == "accounts" and url_name in SIGN_IN_PAGES:
        return Page.SIGN_IN
    if namespace == "accounts" and url_name in JOIN_PAGES:
        return Page.JOIN
    if not namespace and url_name in LEAVE_PAGES:
        return Page.LEAVE
    return Page.WORKSPACE


def refuses_every_page(state: State) -> bool:
    """A state in which no page answers, whoever asks: refused even before the URL is resolved (so an
    unknown path gets the same 403, not a 404)."""
    return state == State.OPERATOR_SUSPENDED


def decide(*, state: State, role: str | None, page: Page, write: bool) -> Outcome:
    """`role` is None for a visitor who is not logged in; `write` for any method but GET, HEAD, OPTIONS."""
    is_owner = role == OWNER
    if state == State.OPEN:
        return Outcome.ALLOW
    if state == State.OPERATOR_SUSPENDED:
        return Outcome.SUSPENDED
    # Not paying: owners may still pay, take their data and leave; nobody may use the workspace.
    owner_pages = (Page.BILLING, Page.LEAVE)
    if state == State.BILLING_SUSPENDED:
        if page in (Page.SIGN_IN, Page.LEGAL) or (page in owner_pages and is_owner):
            return Outcome.ALLOW
        return Outcome.SUSPENDED
    if state == State.PAYMENT_REQUIRED:
        if page in (Page.SIGN_IN, Page.LEGAL) or (page in owner_pages and is_owner):
            return Outcome.ALLOW
        return Outcome.PAYMENT_REQUIRED
    # Closed: owners may read everything (to export) and sign in and out; nobody else may stay.
    if role is not None and not is_owner:
        return Outcome.CLOSED_LOG_OUT
    if page == Page.JOIN or (write and page != Page.SIGN_IN):
        return Outcome.CLOSED
    return Outcome.ALLOW
