import re

from django.conf import settings
from django.core.exceptions import ValidationError

SUBDOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$")


def subdomain_normalize(value: str) -> str:
    return value.strip().lower()


def subdomain_validate(value: str) -> None:
    """Format and reserved words; availability is checked by the form and enforced by the database."""
    if not 3 <= len(value) <= 63:
        raise ValidationError("Use 3 to 63 characters.", code="length")
    if not SUBDOMAIN_RE.match(value):
        raise ValidationError(
            "Use only letters a-z, digits and hyphens, and start and end with a letter or digit.",
            code="format",
        )
    if value.startswith("xn--") or "--" in value[2:4]:
        raise ValidationError("This address is not available.", code="reserved")
    if value in settings.RESERVED_SUBDOMAINS:
        raise ValidationError("This address is reserved. Please choose another.", code="reserved")
