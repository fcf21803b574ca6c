from django.core.management.base import BaseCommand

from tenants.services import tenants_purge_due


class Command(BaseCommand):
    help = (
        "Delete for good, schema included, every workspace closed more than DELETION_GRACE_DAYS ago. "
        "Idempotent: safe to run by hand as often as you like (the worker runs it daily)."
    )

    def handle(self, *args, **options):
        purged = tenants_purge_due()
        self.stdout.write(f"Purged {len(purged)} workspace(s){': ' + ', '.join(purged) if purged else ''}.")
