"""The audit trail: one writer, and the vocabulary each app registers.

Every state change of a workspace is audited by the service that makes it, through `audit_record`, with an
action from a registered `TextChoices` (no free strings) and the kind of actor, which the caller knows
(an owner or a member inside a workspace, an operator, the system, Stripe). Each app declares its own
actions in its `audit.py` with `@actions_register`; actions are stored without database choices, so a new
one needs no migration (Zulip stores integers; Sentry keeps a registry, as here)."""

import logging
from typing import TypeVar

from django.db import models
from django_tenants.utils import get_public_schema_name

from core.db import connection
from core.models import ActorKind, AuditEvent

logger = logging.getLogger(__name__)

_labels = AuditEvent.ACTION_LABELS

Choices = TypeVar("Choices", bound=type[models.TextChoices])

__all__ = ["ActorKind", "AuditEvent", "action_choices", "actions_register", "audit_record"]


def actions_register(choices: Choices) -> Choices:
    """Class decorator: the actions of one app. A value registered twice with another label is an error."""
    # Read through the bound type: django-stubs' plugin types `.choices` of a class, not of a type variable.
    registered: type[models.TextChoices] = choices
    for value, label in registered.choices:
        if _labels.get(value, label) != label:
            raise ValueError(f"audit action {value!r} is registered twice")
        _labels[value] = str(label)
    return choices


def action_choices() -> list[tuple[str, str]]:
    """Every registered action, for the admin's filter."""
    return sorted(_labels.items())


def _actor_kind_named(actor: str) -> ActorKind:
    """ "system" and "stripe" name themselves; an email on the public schema (the operators' admin and
    commands) is an operator. Inside a workspace only the caller knows whether its person is the owner."""
    if actor in (ActorKind.SYSTEM, ActorKind.STRIPE):
        return ActorKind(actor)
    if connection.schema_name == get_public_schema_name():
        return ActorKind.OPERATOR
    raise ValueError(f"audit_record inside a workspace needs the actor_kind of {actor!r}")


def audit_record(
    *,
    tenant,
    actor: str,
    action: str,
    actor_kind: ActorKind | str | None = None,
    details: dict | None = None,
    ip_address: str | None = None,
    tenant_label: str = "",
) -> AuditEvent:
    """The one writer of the audit trail. `action` must be a registered action (anything else raises
    ValueError); without `actor_kind`, "system", "stripe" and an operator on the public schema are known."""
    if action not in _labels:
        raise ValueError(f"{action!r} is not a registered audit action")
    actor_kind = ActorKind(actor_kind) if actor_kind else _actor_kind_named(actor)
    label = tenant_label or ((tenant.subdomain or tenant.schema_name) if tenant else "")
    # A log line per state change (signup, suspension, billing, ...); who and the details stay in the
    # audit trail, which holds email addresses: the logs name people by id only.
    logger.info("audit: %s (%s)", action, label, extra={"action": str(action), "audited_workspace": label})
    return AuditEvent.objects.create(
        tenant=tenant,
        tenant_label=label,
        actor=actor,
        actor_kind=actor_kind,
        action=str(action),
        details=details or {},
        ip_address=ip_address,
    )
