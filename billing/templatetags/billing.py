from django import template

from billing.models import money as money_text

register = template.Library()


@register.filter
def money(amount: int, currency: str) -> str:
    """`{{ invoice.amount_due|money:invoice.currency }}`: billing.models.money, so a page, an email and an
    admin column show an amount alike. Amounts are in the smallest currency unit (Plan.monthly_amount)."""
    return money_text(amount, currency)
