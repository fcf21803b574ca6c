"""The plans on offer. Stripe prices and a Plan model editable in the admin arrive with the billing
issue; until then this is the one place plans are defined."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    monthly_price: int
    yearly_price: int
    member_limit: int | None
    summary: str


PLANS = (
    Plan("starter", "Starter", 19, 190, 5, "For a small team getting organised."),
    Plan("growth", "Growth", 49, 490, 25, "For a growing business with several teams."),
    Plan("scale", "Scale", 129, 1290, None, "Unlimited members and priority support."),
)
PLANS_BY_SLUG = {plan.slug: plan for plan in PLANS}


def plan_name(slug: str) -> str:
    plan = PLANS_BY_SLUG.get(slug)
    return plan.name if plan else slug
