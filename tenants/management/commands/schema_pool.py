from django.core.management.base import BaseCommand

from tenants.models import Tenant
from tenants.schemas import pool


class Command(BaseCommand):
    help = "Top up the pool of pre-migrated spare schemas that signup claims (the worker also does, every 10 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=None, help="Spares to keep (default SCHEMA_POOL_SIZE).")

    def handle(self, *args, size, **options):
        pool.template_ensure(verbosity=options["verbosity"])
        made = pool.pool_fill(size=size)
        self.stdout.write(f"made {made} spare schema(s); {Tenant.objects.spares().count()} ready")
