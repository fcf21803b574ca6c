from django.core.management.base import BaseCommand

from console.backups import purged_backups_delete
from tenants.services import tenants_purge_due


class Command(BaseCommand):
    help = (
        "Delete for good, schema and backups included, every workspace closed more than DELETION_GRACE_DAYS ago. "
        "Idempotent: safe to run by hand as often as you like (the worker runs it daily)."
    )

    def handle(self, *args, **options):
        purged = tenants_purge_due()
        self.stdout.write(f"Purged {len(purged)} workspace(s){': ' + ', '.join(purged) if purged else ''}.")
        gone = purged_backups_delete()
        if gone:
            self.stdout.write(f"Deleted the backups of {len(gone)} purged workspace(s).")
