from django.core.cache import caches
from django.utils import timezone

from billing.models import BillingAccount, Plan
from tenants.models import Tenant


def plan_for(tenant) -> Plan | None:
    return Plan.objects.filter(slug=tenant.plan).first()


PLAN_NAMES_KEY = "plan-names"


def plan_name(slug: str) -> str:
    """A plan's display name, from a cached table of all of them (every page header shows one)."""
    names = caches["public"].get(PLAN_NAMES_KEY)
    if names is None:
        names = dict(Plan.objects.values_list("slug", "name"))
        caches["public"].set(PLAN_NAMES_KEY, names, 300)
    return names.get(slug, slug)


def plan_names_forget(**kwargs) -> None:
    """Connected to Plan's post_save and post_delete (billing/apps.py)."""
    caches["public"].delete(PLAN_NAMES_KEY)


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
