"""Amounts are shown one way, "19.00 USD", by billing.models.money: in Python (emails, admin columns) and in
templates through the `money` filter of billing/templatetags/billing.py."""

import pytest
from django.template import Context, Template

from billing.models import Plan, money


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(1900, "usd", "19.00 USD"), (123456, "eur", "1,234.56 EUR"), (5, "gbp", "0.05 GBP"), (0, "usd", "0.00 USD")],
)
def test_money_reads_the_smallest_unit_and_names_the_currency(amount, currency, text):
    assert money(amount, currency) == text


def test_the_filter_is_the_function():
    template = Template("{% load billing %}{{ amount|money:currency }}")
    assert template.render(Context({"amount": 123456, "currency": "eur"})) == money(123456, "eur")


def test_plans_are_priced_in_whole_units_and_shown_like_invoices():
    plan = Plan(monthly_price=19, yearly_price=1290, currency="usd")
    assert (plan.monthly_amount, plan.yearly_amount) == (1900, 129000)
    template = Template(
        "{% load billing %}{{ plan.monthly_amount|money:plan.currency }} {{ plan.yearly_amount|money:plan.currency }}"
    )
    assert template.render(Context({"plan": plan})) == "19.00 USD 1,290.00 USD"


@pytest.mark.django_db
def test_the_landing_page_shows_each_plan_in_its_own_currency(public_client):
    Plan.objects.filter(slug="growth").update(currency="eur")
    page = public_client.get("/").content.decode()
    assert "19.00 USD" in page and "190.00 USD" in page  # Starter
    assert "49.00 EUR" in page and "490.00 EUR" in page  # Growth, no longer "$49"
    assert "1,290.00 USD" in page  # Scale, yearly
    assert "$" not in page
