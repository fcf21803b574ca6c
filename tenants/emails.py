"""Emails about a workspace's life: welcome, closed, suspended, reactivated (see notifications.registry)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.http import urlencode

from core.links import workspace_url
from notifications.registry import EmailKind, register
from tenants.models import Tenant


def sample_workspace() -> Tenant:
    """An unsaved workspace for template previews, with characters that must survive escaping."""
    now = timezone.now()
    return Tenant(
        business_name="Smith & Sons <Bakery>",
        subdomain="smith",
        owner_name='Ann O\'Neil "Annie"',
        owner_email="ann@smith.example",
        status=Tenant.Status.TRIALING,
        trial_ends_at=now + timedelta(days=settings.TRIAL_DAYS),
        closed_at=now,
        created_at=now,
    )


def workspace_context(tenant: Tenant) -> dict:
    subdomain = tenant.workspace_subdomain
    return {
        "tenant": tenant,
        "workspace_url": workspace_url(subdomain, "/"),
        "login_url": workspace_url(subdomain, "/login/?" + urlencode({"email": tenant.owner_email})),
        "billing_url": workspace_url(subdomain, "/billing/"),
    }


def recipients(tenant: Tenant, *, billing: bool = True) -> list[str]:
    """The owner, and the billing contact when it is another address."""
    addresses = [tenant.owner_email]
    if billing and tenant.billing_email and tenant.billing_email.lower() != tenant.owner_email.lower():
        addresses.append(tenant.billing_email)
    return [address for address in addresses if address]


def _welcome(email) -> dict:
    return workspace_context(email.tenant)


def _closed(email) -> dict:
    return {**workspace_context(email.tenant), "purge_after": email.tenant.purge_after}


def _suspended(email) -> dict:
    return {**workspace_context(email.tenant), "by_billing": email.params.get("by") == Tenant.SuspendedBy.BILLING}


register(
    EmailKind(
        name="welcome",
        label="Welcome",
        essential=False,
        build=_welcome,
        sample=lambda: workspace_context(sample_workspace()),
    )
)
register(
    EmailKind(
        name="workspace_closed",
        label="Workspace closed",
        essential=True,
        build=_closed,
        sample=lambda: {**workspace_context(sample_workspace()), "purge_after": sample_workspace().purge_after},
    )
)
register(
    EmailKind(
        name="workspace_suspended",
        label="Workspace suspended",
        essential=True,
        build=_suspended,
        sample=lambda: {**workspace_context(sample_workspace()), "by_billing": True},
    )
)
register(
    EmailKind(
        name="workspace_reactivated",
        label="Workspace reactivated",
        essential=True,
        build=_welcome,
        sample=lambda: workspace_context(sample_workspace()),
    )
)
