"""Stripe's objects and events as webhooks deliver them (billing.fake_stripe builds them), with the test
suite's defaults: one Growth subscription, one invoice, events numbered in order."""

import itertools

from billing.fake_stripe import event_object, invoice_object, subscription_object

_event_ids = itertools.count(1)


def event(kind: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> dict:
    return event_object(kind, obj, event_id=event_id or f"evt_test_{next(_event_ids)}", created=created)


def subscription(
    customer: str,
    *,
    status: str = "active",
    price: str = "price_growth_month",
    sub_id: str = "sub_test1",
    cancel_at_period_end: bool = False,
    trial_end: int | None = None,
    created: int | None = None,
) -> dict:
    return subscription_object(
        customer,
        sub_id=sub_id,
        price=price,
        status=status,
        created=created,
        trial_end=trial_end,
        cancel_at_period_end=cancel_at_period_end,
    )


def invoice(
    customer: str,
    *,
    inv_id: str = "in_test1",
    status: str = "open",
    amount: int = 4900,
    attempt: int = 1,
    sub_id: str = "sub_test1",
) -> dict:
    return invoice_object(customer, inv_id=inv_id, sub_id=sub_id, status=status, amount=amount, attempt=attempt)
