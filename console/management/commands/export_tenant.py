from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.export import tenant_export
from core.audit import ActorKind
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Write a workspace's data (members, invitations, audit trail, settings) to a ZIP of CSV and JSON."

    def add_arguments(self, parser):
        parser.add_argument("subdomain")
        parser.add_argument("path", type=Path)

    def handle(self, *args, subdomain, path, **options):
        tenant = Tenant.objects.workspaces().filter(subdomain=subdomain.lower()).first()
        if tenant is None:
            raise CommandError(f"No workspace with the subdomain {subdomain!r}.")
        path.write_bytes(tenant_export(tenant=tenant, actor="system", actor_kind=ActorKind.SYSTEM))
        self.stdout.write(f"Wrote {path} ({path.stat().st_size:,} bytes).")
