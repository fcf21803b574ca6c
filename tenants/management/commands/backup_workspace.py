from django.core.management.base import BaseCommand, CommandError

from tenants.backups import BackupError, workspace_backup
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Back up one workspace (its schema and its public rows) to the backups storage; expire old ones."

    def add_arguments(self, parser):
        parser.add_argument("subdomain")

    def handle(self, *args, subdomain, **options):
        tenant = Tenant.objects.workspaces().filter(subdomain=subdomain.lower()).first()
        if tenant is None:
            raise CommandError(f"No workspace with the subdomain {subdomain!r}.")
        try:
            backup = workspace_backup(tenant=tenant, actor="manage.py backup_workspace")
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Wrote {backup.name} ({backup.size:,} bytes).")
