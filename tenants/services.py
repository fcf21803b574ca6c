"""Every state change of a workspace is one function here, and each writes its audit event.

Views, admin actions, management commands and background tasks all call these. What the apps above must
do when a workspace changes (billing stops a renewal when it closes, ...) they do in receivers of the
signals in tenants/signals.py, sent here inside the same transaction.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import ActorKind, audit_record
from core.db import connection
from notifications.models import EmailLog
from notifications.services import email_queue
from tenants import signals
from tenants.audit import TenantAction
from tenants.models import Domain, Tenant
from tenants.schemas import pool

logger = logging.getLogger(__name__)


class SubdomainUnavailable(Exception):
    """The subdomain was taken between validation and provisioning."""


class InvalidStateChange(Exception):
    pass


@transaction.atomic
def tenant_provision(
    *,
    business_name: str,
    subdomain: str,
    owner_email: str,
    owner_name: str,
    ip_address: str | None = None,
) -> Tenant:
    """Turn a spare schema into a trialing workspace. All or nothing. Its owner's account is made in the
    same transaction by accounts.signup.workspace_create, the only caller: a workspace never lacks one."""
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

    audit_record(
        tenant=tenant,
        actor=owner_email,
        actor_kind=ActorKind.OWNER,
        action=TenantAction.TENANT_PROVISIONED,
        details={"plan": tenant.plan, "trial_ends_at": tenant.trial_ends_at.isoformat()},
        ip_address=ip_address,
    )
    return tenant


def _operator_or_named(actor: str) -> ActorKind:
    """Who does the changes only operators, the system and Stripe make: "system" and "stripe" name
    themselves, anyone else is an operator (wherever the connection's schema happens to be)."""
    return ActorKind(actor) if actor in (ActorKind.SYSTEM, ActorKind.STRIPE) else ActorKind.OPERATOR


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
        actor_kind=_operator_or_named(actor),
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
        action=TenantAction.TENANT_SUSPENDED,
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
        locked, status=Tenant.Status.TRIALING, action=TenantAction.TENANT_ACTIVATED, actor=actor, ip_address=ip_address
    )
    signals.workspace_activated.send(sender=Tenant, tenant=locked)
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
        action=TenantAction.TENANT_TRIAL_EXTENDED,
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
        action=TenantAction.TENANT_TRIAL_END_SET,
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
        actor_kind=_operator_or_named(actor),
        action=action,
        details={**details, "from": previous.isoformat() if previous else None, "to": ends_at.isoformat()},
        ip_address=ip_address,
    )
    return locked


@transaction.atomic
def tenant_update_settings(
    *,
    tenant: Tenant,
    actor: str,
    actor_kind: ActorKind,
    business_name: str,
    billing_email: str,
    ip_address: str | None = None,
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
            actor_kind=actor_kind,
            action=TenantAction.TENANT_SETTINGS_CHANGED,
            details=changes,
            ip_address=ip_address,
        )
    return locked


@transaction.atomic
def tenant_close(
    *, tenant: Tenant, actor: str, actor_kind: ActorKind = ActorKind.OWNER, ip_address: str | None = None
) -> Tenant:
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
        actor_kind=actor_kind,  # its owner, on the settings page; an operator from a shell says so
        action=TenantAction.TENANT_CLOSED,
        ip_address=ip_address,
        details={"from": previous, "purge_after": locked.purge_after.isoformat()},
    )
    email_queue(kind="workspace_closed", to=locked.owner_email, tenant=locked)
    signals.workspace_closed.send(sender=Tenant, tenant=locked)
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
        actor_kind=_operator_or_named(actor),
        action=TenantAction.TENANT_REOPENED,
        ip_address=ip_address,
        details={"to": locked.status},
    )
    signals.workspace_reopened.send(sender=Tenant, tenant=locked)
    return locked


@transaction.atomic
def tenant_purge(*, tenant: Tenant, actor: str = "system") -> None:
    """Delete a closed workspace whose grace period is over: its schema, domains, email log and row. The
    audit trail and legal records stay, detached, under the workspace's name."""
    locked = _locked_workspace(tenant)
    if locked.closed_at is None or locked.purge_after > timezone.now():
        raise InvalidStateChange(f"{locked} is not due for deletion.")
    audit_record(
        tenant=None,
        tenant_label=locked.subdomain or "",
        actor=actor,
        actor_kind=_operator_or_named(actor),
        action=TenantAction.TENANT_PURGED,
        details={
            "subdomain": locked.subdomain,
            "schema": locked.schema_name,
            "closed_at": locked.closed_at.isoformat(),
        },
    )
    signals.workspace_purging.send(sender=Tenant, tenant=locked)
    Domain.objects.filter(tenant=locked).delete()
    EmailLog.objects.filter(tenant=locked).delete()  # addresses of its people: its data, deleted with it
    connection.set_schema_to_public()
    locked.delete(force_drop=True)


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
