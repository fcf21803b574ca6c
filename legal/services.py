from legal.documents import current_documents
from legal.models import LegalAcceptance


def acceptance_record_current(*, tenant, email: str, ip_address: str | None) -> list[LegalAcceptance]:
    """Record that `email` accepted the current version of every legal document."""
    return LegalAcceptance.objects.bulk_create(
        LegalAcceptance(tenant=tenant, email=email, document=doc.kind, version=doc.version, ip_address=ip_address)
        for doc in current_documents().values()
    )
