import time

from django.core.management.base import BaseCommand

from tenants import pool
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Top up the pool of pre-migrated spare schemas that signup claims (safe to run from cron)."

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=None, help="Spares to keep (default SCHEMA_POOL_SIZE).")
        parser.add_argument("--watch", type=int, default=0, metavar="SECONDS", help="Keep refilling every N seconds.")

    def handle(self, *args, size, watch, **options):
        pool.template_ensure(verbosity=options["verbosity"])
        while True:
            made = pool.pool_fill(size=size)
            self.stdout.write(f"made {made} spare schema(s); {Tenant.objects.spares().count()} ready")
            if not watch:
                return
            time.sleep(watch)
