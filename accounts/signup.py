"""A new workspace and its owner: the one place where a workspace (tenants), its first account (here), the
legal acceptance (legal) and the welcome email (notifications) come together. Nothing below accounts
imports this module (docs/architecture.md)."""

from django.db import transaction
from django_tenants.utils import schema_context

from accounts.models import User
from legal import services as legal_services
from notifications.services import email_queue
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.schemas import pool


@transaction.atomic
def workspace_create(
    *,
    business_name: str,
    subdomain: str,
    owner_email: str,
    owner_name: str,
    owner_password_hash: str,
    ip_address: str | None = None,
) -> Tenant:
    """A trialing workspace with its owner, all or nothing (tenants.services.tenant_provision, then the
    owner's account in its schema). The password arrives hashed: hashing is deliberately slow and must not
    hold the claimed spare's lock. Raises tenants.services.SubdomainUnavailable."""
    tenant = tenant_services.tenant_provision(
        business_name=business_name,
        subdomain=subdomain,
        owner_email=owner_email,
        owner_name=owner_name,
        ip_address=ip_address,
    )
    with schema_context(tenant.schema_name):
        User.objects.create(email=owner_email, full_name=owner_name, role=User.Role.OWNER, password=owner_password_hash)
    return tenant


def workspace_signup(
    *,
    business_name: str,
    subdomain: str,
    owner_email: str,
    owner_name: str,
    owner_password_hash: str,
    ip_address: str | None,
) -> Tenant:
    """Public signup: the workspace and its owner, the legal acceptance (audited by legal) and the welcome
    email queued, in one transaction; the worker sends the email and refills the spare pool once it has
    committed."""
    with transaction.atomic():
        tenant = workspace_create(
            business_name=business_name,
            subdomain=subdomain,
            owner_email=owner_email,
            owner_name=owner_name,
            owner_password_hash=owner_password_hash,
            ip_address=ip_address,
        )
        legal_services.acceptance_record_current(tenant=tenant, email=owner_email, ip_address=ip_address)
        email_queue(kind="welcome", to=owner_email, tenant=tenant)
        pool.pool_refill_soon()
    return tenant
