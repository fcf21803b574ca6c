"""The legal documents in force. A new version is a new template plus a new version string in the
environment (TERMS_VERSION / PRIVACY_VERSION, an ISO date that is also the effective date)."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings


@dataclass(frozen=True)
class LegalDocument:
    kind: str
    title: str
    version: str
    template_name: str

    @property
    def effective_date(self) -> date:
        return date.fromisoformat(self.version)


def current_documents() -> dict[str, LegalDocument]:
    return {
        "terms": LegalDocument("terms", "Terms of Service", settings.TERMS_VERSION, "legal/terms.html"),
        "privacy": LegalDocument("privacy", "Privacy Policy", settings.PRIVACY_VERSION, "legal/privacy.html"),
    }
