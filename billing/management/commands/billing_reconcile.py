from django.core.management.base import BaseCommand

from billing.services import billing_reconcile


class Command(BaseCommand):
    help = (
        "Read every Stripe customer's subscriptions back from Stripe and fix the workspaces the webhooks "
        "left behind (the worker runs it nightly). Prints what changed."
    )

    def handle(self, *args, **options):
        changes = billing_reconcile()
        for change in changes:
            self.stdout.write(change)
        self.stdout.write(f"{len(changes)} workspace(s) changed or not checked.")
