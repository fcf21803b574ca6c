"""Queue, send and track emails. Every email is an EmailLog row queued in the caller's transaction (the job
that sends it exists only if that transaction commits); the worker renders and sends it, retrying with
backoff; the provider's webhooks mark bounces and complaints, which suppress non-essential email."""

import logging

from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
from anymail.message import AnymailMessage
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from core.audit import audit_record
from core.queue import defer
from notifications import registry
from notifications.audit import EmailAction
from notifications.models import EmailLog, Notice, Suppression
from notifications.render import Rendered, email_render

logger = logging.getLogger(__name__)

DELIVER_TASK = "notifications.deliver"  # notifications/tasks.py; queued by name (the task module imports this)


def email_queue(*, kind: str, to: str, tenant=None, params: dict | None = None) -> EmailLog:
    """Log the email and queue its sending, both in the current transaction. A non-essential email to a
    suppressed address is logged as suppressed and not queued."""
    email_kind = registry.kind_get(kind)
    to = to.strip()
    suppressed = not email_kind.essential and address_is_suppressed(to)
    email = EmailLog.objects.create(
        tenant=tenant,
        tenant_label=(tenant.subdomain or tenant.schema_name) if tenant else "",
        kind=kind,
        to=to,
        params=params or {},
        essential=email_kind.essential,
        status=EmailLog.Status.SUPPRESSED if suppressed else EmailLog.Status.QUEUED,
    )
    if not suppressed:
        defer(DELIVER_TASK, email_id=email.pk)
    return email


def email_deliver(*, email_id: int, final_attempt: bool) -> str:
    """Send one queued email (the worker's job). Any error counts as a failed attempt and is raised so the
    queue retries it; the last attempt's failure marks the email failed. A provider that refuses the
    address is final at once (retrying cannot help)."""
    email = EmailLog.objects.select_related("tenant").filter(pk=email_id).first()
    # A failed email may be retried from the job admin; anything else was already dealt with.
    if email is None or email.status not in (EmailLog.Status.QUEUED, EmailLog.Status.FAILED):
        return f"nothing to do: {email.status if email else 'no such email'}"
    try:
        kind = registry.kind_get(email.kind)
        if not kind.essential and address_is_suppressed(email.to):
            return _finish(email, EmailLog.Status.SUPPRESSED)
        rendered = _render_in_workspace(email, kind)
    except registry.EmailObsolete as reason:
        return _finish(email, EmailLog.Status.SKIPPED, error=str(reason))
    except Exception as error:
        _attempt_failed(email, error, final=final_attempt)
        raise

    message = AnymailMessage(
        subject=rendered.subject,
        body=rendered.text,
        to=[email.to],
        tags=[kind.name],
        metadata={"workspace": email.tenant_label, "email_id": str(email.pk)},
    )
    message.attach_alternative(rendered.html, "text/html")
    email.subject = rendered.subject[:255]
    try:
        message.send()
    except (AnymailRecipientsRefused, AnymailInvalidAddress) as error:
        _attempt_failed(email, error, final=True)
        return "refused by the provider"
    except Exception as error:
        _attempt_failed(email, error, final=final_attempt)
        raise
    status = getattr(message, "anymail_status", None)
    message_id = status.message_id if status else None
    email.provider_message_id = "" if message_id is None else str(message_id)
    email.attempts += 1
    email.status, email.last_error = EmailLog.Status.SENT, ""
    email.sent_at = timezone.now()
    email.save(
        update_fields=["attempts", "subject", "provider_message_id", "status", "last_error", "sent_at", "updated_at"]
    )
    logger.info("email %s (%s to workspace %s): sent", email.pk, email.kind, email.tenant_label)
    return "sent"


def _render_in_workspace(email: EmailLog, kind: registry.EmailKind) -> Rendered:
    """Build and render inside the email's workspace schema, holding a share lock on its row: a purge
    (which locks the row for update and drops the schema) waits for us, or we find the workspace gone."""
    if email.tenant_id is None:
        raise registry.EmailObsolete("the workspace no longer exists")
    table = EmailLog.tenant.field.related_model._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT schema_name FROM {table} WHERE id = %s FOR KEY SHARE", [email.tenant_id])
            row = cursor.fetchone()
        if row is None or not schema_exists(row[0]):
            raise registry.EmailObsolete("the workspace no longer exists")
        with schema_context(row[0]):
            return email_render(kind.name, kind.build(email))


def _attempt_failed(email: EmailLog, error: Exception, *, final: bool) -> None:
    email.attempts += 1
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    email.status = EmailLog.Status.FAILED if final else EmailLog.Status.QUEUED
    email.save(update_fields=["attempts", "subject", "last_error", "status", "updated_at"])
    logger.warning("email %s (%s to workspace %s) failed: %s", email.pk, email.kind, email.tenant_label, error)


def _finish(email: EmailLog, status: str, *, error: str = "") -> str:
    email.status, email.last_error = status, error
    email.save(update_fields=["status", "last_error", "updated_at"])
    logger.info("email %s (%s to workspace %s): %s", email.pk, email.kind, email.tenant_label, status)
    return status


@transaction.atomic
def email_send_again(*, email: EmailLog, actor: str = "system", ip_address: str | None = None) -> EmailLog:
    """An operator's "send again": a new email of the same kind, to the same address, about the same thing,
    built when the worker sends it (so with today's data and links). An email of a purged workspace has
    nothing left to be built from: EmailObsolete, and nothing is queued."""
    if email.tenant_id is None:
        raise registry.EmailObsolete("its workspace no longer exists")
    resent = email_queue(kind=email.kind, to=email.to, tenant=email.tenant, params=email.params)
    # Which kind and which log rows; not the address, which the email log holds.
    audit_record(
        tenant=email.tenant,
        actor=actor,
        action=EmailAction.EMAIL_RESENT,
        details={"kind": email.kind, "email": email.pk, "resent": resent.pk},
        ip_address=ip_address,
    )
    return resent


def notice_claim(*, tenant_id: int, kind: str, occasion: str) -> bool:
    """Record that the workspace is told about this occasion; False if it already was (or is being, by a
    concurrent transaction, which this one then waits for). Call inside the transaction that queues the
    email."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notice._meta.db_table} (tenant_id, kind, occasion, created_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [tenant_id, kind, occasion, timezone.now()],
        )
        return cursor.fetchone() is not None


def address_is_suppressed(address: str) -> bool:
    return Suppression.objects.filter(address=address.strip().lower()).exists()


# Delivery events from the provider (anymail's normalized tracking events)

SUPPRESSING_EVENTS = {"bounced": Suppression.Reason.BOUNCED, "complained": Suppression.Reason.COMPLAINED}


@transaction.atomic
def delivery_event_apply(*, event_type: str, message_id: str, recipient: str, description: str = "") -> str:
    """A bounce or complaint marks the email and suppresses its address for non-essential email.
    Soft bounces ("deferred") and other events change nothing: the provider retries those itself."""
    recipient = (recipient or "").strip().lower()
    if event_type not in SUPPRESSING_EVENTS or not recipient:
        return f"ignored: {event_type}"
    updated = (
        EmailLog.objects.filter(provider_message_id=message_id, to__iexact=recipient).update(
            status=event_type, updated_at=timezone.now()
        )
        if message_id
        else 0
    )
    Suppression.objects.get_or_create(
        address=recipient, defaults={"reason": SUPPRESSING_EVENTS[event_type], "detail": description[:255]}
    )
    logger.info("email tracking: %s, address suppressed (%s logged emails marked)", event_type, updated)
    return f"suppressed {recipient}"
