from django.db import models
from django.utils import timezone


class LegalAcceptance(models.Model):
    """Who accepted which version of which document, when and from where (public schema)."""

    class Document(models.TextChoices):
        TERMS = "terms", "Terms of Service"
        PRIVACY = "privacy", "Privacy Policy"

    tenant = models.ForeignKey("tenants.Tenant", null=True, on_delete=models.SET_NULL, related_name="legal_acceptances")
    email = models.EmailField()
    document = models.CharField(max_length=16, choices=Document.choices)
    version = models.CharField(max_length=32)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.email} accepted {self.document} {self.version}"
