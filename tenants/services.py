"""Every state change of a workspace is one function here, and each writes its audit event.

Views, admin actions, management commands and (later) background tasks all call these.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from core.queue import defer
from legal import services as legal_services
from notifications.models import EmailLog
from notifications.services import email_queue
from tenants import pool
from tenants.models import ActorKind, AuditAction, AuditEvent, Domain, Tenant

logger = logging.getLogger(__name__)

# Billing's side of a workspace's closing, reopening and purge: jobs queued by name in the same
# transaction (billing/tasks.py defines them; billing sits above tenants, so no import).
WORKSPACE_CLOSED_TASK = "billing.workspace_closed"
WORKSPACE_REOPENED_TASK = "billing.workspace_reopened"
WORKSPACE_RECHECK_TASK = "billing.workspace_recheck"
CUSTOMER_PURGED_TASK = "billing.customer_purged"


class SubdomainUnavailable(Exception):
    """The subdomain was taken between validation and provisioning."""


class InvalidStateChange(Exception):
    pass


def audit_record(
    *,
    tenant: Tenant | None,
    actor: str,
    action: AuditAction | str,
    actor_kind: ActorKind | None = None,
    details: dict | None = None,
    ip_address: str | None = None,
    tenant_label: str = "",
) -> AuditEvent:
    """The one writer of the audit trail. `action` must be an AuditAction (a string that is not one
    raises ValueError: no free strings); `actor_kind` is worked out from `actor` when not given."""
    action = AuditAction(action)
    actor_kind = ActorKind(actor_kind) if actor_kind else _actor_kind(actor)
    label = tenant_label or ((tenant.subdomain or tenant.schema_name) if tenant else "")
    # A log line per state change (signup, suspension, billing, ...); who and the details stay in the
    # audit trail, which holds email addresses: the logs name people by id only.
    logger.info("audit: %s (%s)", action, label, extra={"action": action, "audited_workspace": label})
    return AuditEvent.objects.create(
        tenant=tenant,
        tenant_label=label,
        actor=actor,
        actor_kind=actor_kind,
        action=action,
        details=details or {},
        ip_address=ip_address,
    )


def _email_resent_audit(sender, *, original, resent, actor: str, ip_address: str | None, **kwargs) -> None:
    """notifications.services.email_resent: an operator's resend of a workspace's email (which kind,
    which log rows; not the address, which the email log holds)."""
    audit_record(
        tenant=original.tenant,
        actor=actor,
        action=AuditAction.EMAIL_RESENT,
        details={"kind": original.kind, "email": original.pk, "resent": resent.pk},
        ip_address=ip_address,
    )


def _actor_kind(actor: str) -> ActorKind:
    """ "system" and "stripe" name themselves. An email is an operator when the change is made on the
    public schema (the operators' admin, their commands) and a person of the workspace when made inside
    it (its owner, or a member)."""
    if actor in (ActorKind.SYSTEM, ActorKind.STRIPE):
        return ActorKind(actor)
    if connection.schema_name == get_public_schema_name():
        return ActorKind.OPERATOR
    person = User.objects.filter(email__iexact=actor).only("role").first()
    return ActorKind.OWNER if person is not None and person.role == User.Role.OWNER else ActorKind.MEMBER


@transaction.atomic
def tenant_provision(
    *,
    business_name: str,
    subdomain: str,
    owner_email: str,
    owner_name: str,
    owner_password_hash: str,
    ip_address: str | None = None,
) -> Tenant:
    """Turn a spare schema into a trialing workspace with its owner. All or nothing.

    The password arrives hashed: hashing is deliberately slow and must not hold the claimed spare's lock.
    """
    connection.set_schema_to_public()
    tenant = pool.spare_claim() or pool.spare_create()
    now = timezone.now()
    tenant.kind = Tenant.Kind.WORKSPACE
    tenant.business_name = business_name
    tenant.subdomain = subdomain
    tenant.status = Tenant.Status.TRIALING
    tenant.trial_ends_at = now + timedelta(days=settings.TRIAL_DAYS)
    tenant.owner_email = owner_email
    tenant.owner_name = owner_name
    tenant.created_at = now
    try:
        with transaction.atomic():
            tenant.save()
            Domain.objects.create(domain=tenant.host, tenant=tenant, is_primary=True)
    except IntegrityError as error:
        raise SubdomainUnavailable(subdomain) from error

    with schema_context(tenant.schema_name):
        User.objects.create(email=owner_email, full_name=owner_name, role=User.Role.OWNER, password=owner_password_hash)
    audit_record(
        tenant=tenant,
        actor=owner_email,
        actor_kind=ActorKind.OWNER,
        action=AuditAction.TENANT_PROVISIONED,
        details={"plan": tenant.plan, "trial_ends_at": tenant.trial_ends_at.isoformat()},
        ip_address=ip_address,
    )
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
    """Public signup: provision the workspace, record the legal acceptance (and audit it here: legal sits
    below tenants) and queue the welcome email in one transaction; the worker sends the email and refills
    the spare pool once it has committed."""
    with transaction.atomic():
        tenant = tenant_provision(
            business_name=business_name,
            subdomain=subdomain,
            owner_email=owner_email,
            owner_name=owner_name,
            owner_password_hash=owner_password_hash,
            ip_address=ip_address,
        )
        accepted = legal_services.acceptance_record_current(tenant=tenant, email=owner_email, ip_address=ip_address)
        audit_record(
            tenant=tenant,
            actor=owner_email,
            actor_kind=ActorKind.OWNER,
            action=AuditAction.LEGAL_ACCEPTED,
            details={acceptance.document: acceptance.version for acceptance in accepted},
            ip_address=ip_address,
        )
        email_queue(kind="welcome", to=owner_email, tenant=tenant)
        pool.pool_refill_soon()
    return tenant


def _locked_workspace(tenant: Tenant) -> Tenant:
    """Re-read the workspace under a row lock: decisions are made on current data, one change at a time."""
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if not locked.is_workspace:
        raise InvalidStateChange(f"{locked.schema_name} is not a workspace")
    return locked


def _set_status(
    locked: Tenant, *, status: str, action: str, actor: str, ip_address: str | None, suspended_by: str = "", **details
) -> Tenant:
    previous = locked.status
    locked.status = status
    locked.suspended_by = suspended_by
    locked.save(update_fields=["status", "suspended_by", "updated_at"])
    audit_record(
        tenant=locked,
        actor=actor,
        action=action,
        details={"from": previous, "to": status, **details},
        ip_address=ip_address,
    )
    if status == Tenant.Status.SUSPENDED and previous != status:
        email_queue(kind="workspace_suspended", to=locked.owner_email, tenant=locked, params={"by": suspended_by})
    elif previous == Tenant.Status.SUSPENDED and status in (Tenant.Status.TRIALING, Tenant.Status.ACTIVE):
        email_queue(kind="workspace_reactivated", to=locked.owner_email, tenant=locked)
    return locked


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, actor: str, reason: str = "", ip_address: str | None = None) -> Tenant:
    """Every page of a suspended workspace answers 403; nothing is deleted."""
    locked = _locked_workspace(tenant)
    if locked.status == Tenant.Status.SUSPENDED:
        return locked
    return _set_status(
        locked,
        status=Tenant.Status.SUSPENDED,
        action=AuditAction.TENANT_SUSPENDED,
        actor=actor,
        ip_address=ip_address,
        suspended_by=Tenant.SuspendedBy.OPERATOR,
        reason=reason,
    )


@transaction.atomic
def tenant_activate(*, tenant: Tenant, actor: str, ip_address: str | None = None) -> Tenant:
    """Lift an operator's suspension. The workspace is trialing until billing, right after (a queued job),
    sets what its subscription or trial gives; never active for free in between."""
    locked = _locked_workspace(tenant)
    if locked.is_closed:
        raise InvalidStateChange(f"{locked} was closed by its owner: reopen it instead.")
    if locked.status != Tenant.Status.SUSPENDED:
        return locked
    _set_status(
        locked, status=Tenant.Status.TRIALING, action=AuditAction.TENANT_ACTIVATED, actor=actor, ip_address=ip_address
    )
    defer(WORKSPACE_RECHECK_TASK, tenant_id=locked.pk)
    return locked


@transaction.atomic
def tenant_billing_status_set(
    *, tenant: Tenant, status: str, action: str, details: dict, actor: str = "stripe"
) -> Tenant:
    """Billing's way to change the status (webhooks, the grace period). It never overrides an operator's
    suspension or a workspace its owner closed; a billing suspension is recorded as such, so that paying
    lifts it."""
    locked = _locked_workspace(tenant)
    if locked.is_closed or locked.suspended_by == Tenant.SuspendedBy.OPERATOR:
        return locked
    suspended_by = Tenant.SuspendedBy.BILLING if status == Tenant.Status.SUSPENDED else ""
    if locked.status == status and locked.suspended_by == suspended_by:
        return locked
    return _set_status(
        locked, status=status, action=action, actor=actor, ip_address=None, suspended_by=suspended_by, **details
    )


@transaction.atomic
def tenant_extend_trial(*, tenant: Tenant, days: int, actor: str, ip_address: str | None = None) -> Tenant:
    """Add days to the trial (from now if it already ended). Reminders re-arm for the new end date."""
    if not 1 <= days <= 365:
        raise InvalidStateChange("A trial can be extended by 1 to 365 days.")
    locked = _locked_workspace(tenant)
    start = max(locked.trial_ends_at or timezone.now(), timezone.now())
    return _trial_end_set(
        locked,
        ends_at=start + timedelta(days=days),
        action=AuditAction.TENANT_TRIAL_EXTENDED,
        actor=actor,
        ip_address=ip_address,
        days=days,
    )


@transaction.atomic
def tenant_trial_end_set(*, tenant: Tenant, days: int, actor: str, ip_address: str | None = None) -> Tenant:
    """End the trial `days` from now (shorter or longer than today's). Reminders re-arm for that date."""
    if not 1 <= days <= 365:
        raise InvalidStateChange("A trial can end 1 to 365 days from now.")
    locked = _locked_workspace(tenant)
    if locked.status != Tenant.Status.TRIALING:
        raise InvalidStateChange(f"{locked} is not on a trial.")
    return _trial_end_set(
        locked,
        ends_at=timezone.now() + timedelta(days=days),
        action=AuditAction.TENANT_TRIAL_END_SET,
        actor=actor,
        ip_address=ip_address,
        days=days,
    )


def _trial_end_set(locked: Tenant, *, ends_at, action: str, actor: str, ip_address: str | None, **details) -> Tenant:
    previous = locked.trial_ends_at
    locked.trial_ends_at = ends_at
    locked.save(update_fields=["trial_ends_at", "updated_at"])
    audit_record(
        tenant=locked,
        actor=actor,
        action=action,
        details={**details, "from": previous.isoformat() if previous else None, "to": ends_at.isoformat()},
        ip_address=ip_address,
    )
    return locked


@transaction.atomic
def tenant_update_settings(
    *, tenant: Tenant, actor: str, business_name: str, billing_email: str, ip_address: str | None = None
) -> Tenant:
    locked = _locked_workspace(tenant)
    changes = {}
    for field, value in (("business_name", business_name), ("billing_email", billing_email)):
        if getattr(locked, field) != value:
            changes[field] = {"from": getattr(locked, field), "to": value}
            setattr(locked, field, value)
    if changes:
        locked.save(update_fields=[*changes, "updated_at"])
        audit_record(
            tenant=locked,
            actor=actor,
            action=AuditAction.TENANT_SETTINGS_CHANGED,
            details=changes,
            ip_address=ip_address,
        )
    return locked


@transaction.atomic
def tenant_close(*, tenant: Tenant, actor: str, ip_address: str | None = None) -> Tenant:
    """The owner closes the workspace: read-only for its owners, closed to everyone else, and deleted
    for good DELETION_GRACE_DAYS later unless an operator reopens it."""
    locked = _locked_workspace(tenant)
    if locked.is_closed:
        return locked
    previous = locked.status
    locked.status = Tenant.Status.CANCELLED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        tenant=locked,
        actor=actor,
        action=AuditAction.TENANT_CLOSED,
        ip_address=ip_address,
        details={"from": previous, "purge_after": locked.purge_after.isoformat()},
    )
    email_queue(kind="workspace_closed", to=locked.owner_email, tenant=locked)
    defer(WORKSPACE_CLOSED_TASK, tenant_id=locked.pk)  # billing stops the subscription's renewal
    return locked


@transaction.atomic
def tenant_reopen(*, tenant: Tenant, actor: str, ip_address: str | None = None) -> Tenant:
    locked = _locked_workspace(tenant)
    if not locked.is_closed:
        raise InvalidStateChange(f"{locked} is not closed.")
    locked.status = Tenant.Status.TRIALING  # until billing (queued below) sets what the subscription gives
    locked.closed_at = None
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        tenant=locked,
        actor=actor,
        action=AuditAction.TENANT_REOPENED,
        ip_address=ip_address,
        details={"to": locked.status},
    )
    defer(WORKSPACE_REOPENED_TASK, tenant_id=locked.pk)  # billing resumes the renewal
    return locked


@transaction.atomic
def tenant_purge(*, tenant: Tenant, actor: str = "system") -> None:
    """Delete a closed workspace whose grace period is over: its schema, domains, email log and row. The
    audit trail and legal records stay, detached, under the workspace's name."""
    locked = _locked_workspace(tenant)
    if not locked.is_closed or locked.purge_after > timezone.now():
        raise InvalidStateChange(f"{locked} is not due for deletion.")
    audit_record(
        tenant=None,
        tenant_label=locked.subdomain,
        actor=actor,
        action=AuditAction.TENANT_PURGED,
        details={
            "subdomain": locked.subdomain,
            "schema": locked.schema_name,
            "closed_at": locked.closed_at.isoformat(),
        },
    )
    customer_id = _stripe_customer_of(locked)
    if customer_id:
        defer(CUSTOMER_PURGED_TASK, customer_id=customer_id)  # billing ends its subscriptions now
    Domain.objects.filter(tenant=locked).delete()
    EmailLog.objects.filter(tenant=locked).delete()  # addresses of its people: its data, deleted with it
    connection.set_schema_to_public()
    locked.delete(force_drop=True)


def _stripe_customer_of(tenant: Tenant) -> str:
    """The workspace's Stripe customer id, read through the billing account's reverse relation (billing sits
    above tenants: no import)."""
    try:
        return tenant.billing.stripe_customer_id or ""
    except ObjectDoesNotExist:
        return ""


def tenants_purge_due(*, actor: str = "system") -> list[str]:
    """Purge every closed workspace past its grace period; safe to run again and again (the worker: daily)."""
    cutoff = timezone.now() - timedelta(days=settings.DELETION_GRACE_DAYS)
    purged = []
    for tenant in Tenant.objects.workspaces().filter(closed_at__lte=cutoff):
        try:
            tenant_purge(tenant=tenant, actor=actor)
        except Exception:
            logger.exception("could not purge %s; the next run tries again", tenant.subdomain)
            continue
        purged.append(tenant.subdomain)
    return purged
