from core.audit import ActorKind, audit_record
from legal.audit import LegalAction
from legal.documents import current_documents
from legal.models import LegalAcceptance


def acceptance_record_current(*, tenant, email: str, ip_address: str | None) -> list[LegalAcceptance]:
    """Record, and audit, that `email` (the workspace's owner, at signup) accepted the current version of every
    legal document."""
    accepted = LegalAcceptance.objects.bulk_create(
        LegalAcceptance(tenant=tenant, email=email, document=doc.kind, version=doc.version, ip_address=ip_address)
        for doc in current_documents().values()
    )
    audit_record(
        tenant=tenant,
        actor=email,
        actor_kind=ActorKind.OWNER,
        action=LegalAction.LEGAL_ACCEPTED,
        details={acceptance.document: acceptance.version for acceptance in accepted},
        ip_address=ip_address,
    )
    return accepted
