from django.core.management.base import BaseCommand, CommandError

from console.backups import BackupError, database_backup


class Command(BaseCommand):
    help = "Back up the whole database (pg_dump custom format) to the backups storage; expire old ones."

    def handle(self, *args, **options):
        try:
            backup = database_backup()
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Wrote {backup.name} ({backup.size:,} bytes).")
