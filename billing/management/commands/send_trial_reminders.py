from django.core.management.base import BaseCommand

from billing.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Queue every trial reminder due now (the worker sends them); the worker runs this hourly. "
        "Safe to run again or in parallel: nothing is sent twice."
    )

    def handle(self, *args, **options):
        sent = reminders_send()
        self.stdout.write(f"Queued {len(sent)} trial reminder(s){': ' + ', '.join(sent) if sent else ''}.")
