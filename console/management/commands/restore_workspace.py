from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from console.backups import BackupError, workspace_restore


class Command(BaseCommand):
    help = (
        "Restore a workspace backup (a name in the backups storage, or a file): into its own workspace, "
        "replacing its data, or with --as alongside it under a new subdomain."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup")
        parser.add_argument("--as", dest="as_subdomain", metavar="SUBDOMAIN", help="restore as a new workspace")
        parser.add_argument("--yes", action="store_true", help="do not ask before replacing the workspace's data")

    def handle(self, *args, backup, as_subdomain, yes, **options):
        if as_subdomain is None and not yes:
            answer = input(f"Replace the workspace's current data with {backup}? Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Not restored.")
        # A file on this machine, else a name in the backups storage.
        source = Path(backup) if Path(backup).is_file() else backup
        try:
            tenant = workspace_restore(backup=source, as_subdomain=as_subdomain, actor="manage.py restore_workspace")
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {tenant.subdomain} ({tenant.host}, schema {tenant.schema_name}).")
