"""Billing's side of a workspace's lifecycle (tenants/signals.py): each queues a job (billing/tasks.py) in the
change's own transaction, so it runs only if the change commits, and retries while Stripe is unreachable."""

from django.core.exceptions import ObjectDoesNotExist

from billing import services
from core.queue import defer
from tenants import signals


def _closed(sender, *, tenant, **kwargs) -> None:
    defer(services.WORKSPACE_CLOSED_TASK, tenant_id=tenant.pk)  # the subscription's renewal stops


def _reopened(sender, *, tenant, **kwargs) -> None:
    defer(services.WORKSPACE_REOPENED_TASK, tenant_id=tenant.pk)  # the renewal resumes


def _activated(sender, *, tenant, **kwargs) -> None:
    defer(services.WORKSPACE_RECHECK_TASK, tenant_id=tenant.pk)  # the status its subscription gives, read back


def _purging(sender, *, tenant, **kwargs) -> None:
    """The billing account goes with the workspace: note its Stripe customer first, whose subscriptions end now."""
    try:
        customer_id = tenant.billing.stripe_customer_id
    except ObjectDoesNotExist:
        return
    if customer_id:
        defer(services.CUSTOMER_PURGED_TASK, customer_id=customer_id)


def connect() -> None:
    signals.workspace_closed.connect(_closed, dispatch_uid="billing.workspace_closed")
    signals.workspace_reopened.connect(_reopened, dispatch_uid="billing.workspace_reopened")
    signals.workspace_activated.connect(_activated, dispatch_uid="billing.workspace_activated")
    signals.workspace_purging.connect(_purging, dispatch_uid="billing.workspace_purging")
