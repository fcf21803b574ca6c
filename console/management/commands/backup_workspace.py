from django.core.management.base import BaseCommand, CommandError

from console.backups import BackupError, workspace_backup, workspaces_backup_all
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Back up one workspace (its schema and its public rows) to the backups storage, or with --all every "
        "workspace (the nightly run); expire old ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("subdomain", nargs="?")
        parser.add_argument("--all", action="store_true", dest="every", help="Every workspace, one after another.")

    def handle(self, *args, subdomain=None, every=False, **options):
        if every == bool(subdomain):
            raise CommandError("Name one workspace's subdomain, or pass --all.")
        if every:
            run = workspaces_backup_all()
            self.stdout.write(f"Backed up {run['backed_up']:,} workspaces.")
            if run["failed"]:
                failed = "; ".join(f"{name}: {error}" for name, error in sorted(run["failed"].items())[:10])
                raise CommandError(f"{len(run['failed'])} workspace(s) failed: {failed}")
            return
        tenant = Tenant.objects.workspaces().filter(subdomain=subdomain.lower()).first()
        if tenant is None:
            raise CommandError(f"No workspace with the subdomain {subdomain!r}.")
        try:
            backup = workspace_backup(tenant=tenant, actor="manage.py backup_workspace")
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Wrote {backup.name} ({backup.size:,} bytes).")
