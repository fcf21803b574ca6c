"""Subject, plain text and HTML of an email from templates/emails/. Subject and text are rendered by the
"text" template engine (no HTML escaping); the HTML extends the branded layout emails/layout.html."""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def email_render(name: str, context: dict) -> Rendered:
    context = {"APP_NAME": settings.APP_NAME, "SUPPORT_EMAIL": settings.SUPPORT_EMAIL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context, using="text").split())
    text = render_to_string(f"emails/{name}.txt", context, using="text").strip() + "\n"
    html = render_to_string(f"emails/{name}.html", {**context, "subject": subject}, using="django")
    return Rendered(subject=subject, text=text, html=html)
