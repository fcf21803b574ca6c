"""The email provider's delivery webhooks: anymail verifies them (basic auth with ANYMAIL_WEBHOOK_SECRET,
at /anymail/<esp>/tracking/ on the public host) and normalizes each provider's payload into a tracking
event, which lands here."""

from anymail.signals import tracking
from django.dispatch import receiver

from notifications import services


def _soft_bounce(event, esp_name: str) -> bool:
    """anymail reports some temporary bounces as "bounced" too; those must not suppress an address."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if esp_name == "Postmark":
        return raw.get("Type") not in ("HardBounce", "SpamComplaint", "SpamNotification", None)
    if esp_name == "Amazon SES":
        return (raw.get("bounce") or {}).get("bounceType") == "Transient"
    return False


@receiver(tracking, dispatch_uid="notifications.delivery_event")
def delivery_event_received(sender, event, esp_name, **kwargs) -> None:
    event_type = event.event_type
    if event_type == "bounced" and _soft_bounce(event, esp_name):
        event_type = "deferred"
    services.delivery_event_apply(
        event_type=event_type,
        message_id=event.message_id or "",
        recipient=event.recipient or "",
        description=event.description or event.reject_reason or "",
    )
