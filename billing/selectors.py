from django.utils import timezone

from billing.models import BillingAccount, Plan
from tenants.models import Tenant


def plan_for(tenant) -> Plan | None:
    return Plan.objects.filter(slug=tenant.plan).first()


def plan_name(slug: str) -> str:
    plan = Plan.objects.filter(slug=slug).only("name").first()
    return plan.name if plan else slug


def payment_required(tenant) -> bool:
    """The workspace stops working (except Billing for its owner) until someone pays: its trial ended
    without a subscription, or Stripe cancelled its subscription. Comped workspaces never do."""
    if not tenant.is_workspace or tenant.is_closed:
        return False
    trial_over = (
        tenant.status == Tenant.Status.TRIALING and tenant.trial_ends_at and tenant.trial_ends_at <= timezone.now()
    )
    if not (trial_over or tenant.status == Tenant.Status.CANCELLED):
        return False
    return not BillingAccount.objects.filter(tenant=tenant, comped=True).exists()
