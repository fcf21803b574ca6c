from django.core.management.base import BaseCommand

from billing.services import grace_enforce_all


class Command(BaseCommand):
    help = "Suspend past-due workspaces whose unpaid invoice first failed BILLING_GRACE_DAYS ago (the worker: hourly)."

    def handle(self, *args, **options):
        suspended = grace_enforce_all()
        self.stdout.write(f"Suspended {len(suspended)} workspace(s){': ' + ', '.join(suspended) if suspended else ''}.")
