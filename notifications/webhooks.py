"""The email provider's delivery webhooks: anymail verifies them (basic auth with ANYMAIL_WEBHOOK_SECRET,
at /anymail/<esp>/tracking/ on the public host) and normalizes each provider's payload into a tracking
event, which lands here.

anymail reports temporary bounces (a full mailbox, a DNS hiccup) as "bounced" for several providers; only
a permanent one may suppress an address. Each provider says so in its own words, read here from the raw
event; a bounce from a provider not listed is not treated as permanent (complaints always are)."""

from anymail.signals import tracking
from django.dispatch import receiver

from notifications import services

PERMANENT_BOUNCE = {
    "Postmark": lambda raw: raw.get("Type") == "HardBounce",
    "Amazon SES": lambda raw: (raw.get("bounce") or {}).get("bounceType") == "Permanent",
    "Brevo": lambda raw: raw.get("event") in ("hard_bounce", "invalid_email"),
    "Mailgun": lambda raw: True,  # anymail already reports Mailgun's temporary failures as "deferred"
    "Resend": lambda raw: "hard bounce" in (((raw.get("data") or {}).get("bounce") or {}).get("message") or ""),
}


def _permanent_bounce(event, esp_name: str) -> bool:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    rule = PERMANENT_BOUNCE.get(esp_name)
    return bool(rule and rule(raw))


@receiver(tracking, dispatch_uid="notifications.delivery_event")
def delivery_event_received(sender, event, esp_name, **kwargs) -> None:
    event_type = event.event_type
    if event_type == "bounced" and not _permanent_bounce(event, esp_name):
        event_type = "deferred"
    services.delivery_event_apply(
        event_type=event_type,
        message_id=event.message_id or "",
        recipient=event.recipient or "",
        description=event.description or event.reject_reason or "",
    )
