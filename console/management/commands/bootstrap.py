import secrets

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts import operator_otp, signup
from accounts.models import User
from billing.models import Plan
from core.db import connection
from core.links import public_url, workspace_url
from tenants.models import Domain, Tenant
from tenants.schemas import pool

DEMO_SUBDOMAIN = "demo"
DEMO_OWNER = "owner@demo.example.com"
OPERATOR = "operator@example.com"


class Command(BaseCommand):
    help = (
        "Bring a database up to date: migrate every schema, ensure the public tenant, the template schema "
        "and the spare pool. With --demo, also a demo workspace and an operator (credentials printed once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Create the demo workspace and an operator.")

    def handle(self, *args, demo, **options):
        verbosity = options["verbosity"]
        self.stdout.write("Migrating the public schema and every workspace (about 15-30 s the first time)...")
        call_command("migrate_workspaces", verbosity=max(0, verbosity - 1))
        connection.set_schema_to_public()
        public, _ = Tenant.objects.get_or_create(
            schema_name=settings.PUBLIC_SCHEMA_NAME,
            defaults={"kind": Tenant.Kind.PUBLIC, "business_name": settings.APP_NAME},
        )
        Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})
        pool.template_ensure(verbosity=max(0, verbosity - 1))
        made = pool.pool_fill()
        self.stdout.write(f"Schema pool: {made} spare(s) made, {Tenant.objects.spares().count()} ready.")
        if demo:
            self._demo()
        if settings.STRIPE_FAKE:
            self._fake_prices()

    def _fake_prices(self) -> None:
        """With the fake Stripe (STRIPE_FAKE=1), plans without Stripe prices get the fake's, so Checkout works."""
        for plan in Plan.objects.filter(stripe_price_monthly=""):
            plan.stripe_price_monthly, plan.stripe_price_yearly = f"price_{plan.slug}_month", f"price_{plan.slug}_year"
            plan.save(update_fields=["stripe_price_monthly", "stripe_price_yearly"])
        self.stdout.write("  Billing          the fake Stripe (STRIPE_FAKE=1): Checkout pays without a card")

    def _demo(self) -> None:
        lines = []
        if not User.objects.filter(email=OPERATOR).exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(OPERATOR, password, full_name="Operator")
            lines.append(f"  Operator admin   {public_url('/admin/')}  {OPERATOR} / {password}")
            token = operator_otp.enrolment_start(email=OPERATOR)
            enrol_url = public_url(f"/operators/2fa/{token}/")
            lines.append(f"  Operator 2FA     first add the admin to an authenticator app: {enrol_url}")
            lines.append("                   (valid an hour; later: manage.py operator_2fa operator@example.com)")
        if not Tenant.objects.filter(subdomain=DEMO_SUBDOMAIN).exists():
            password = secrets.token_urlsafe(12)
            signup.workspace_create(
                business_name="Demo Company",
                subdomain=DEMO_SUBDOMAIN,
                owner_email=DEMO_OWNER,
                owner_name="Dana Demo",
                owner_password_hash=make_password(password),
            )
            connection.set_schema_to_public()
            lines.append(f"  Demo workspace   {workspace_url(DEMO_SUBDOMAIN, '/login/')}  {DEMO_OWNER} / {password}")
            pool.pool_fill()
        self.stdout.write("")
        self.stdout.write(f"  Public site      {public_url('/')}")
        if lines:
            self.stdout.write("\n".join(lines))
            self.stdout.write("  (credentials are shown only this once; reset with `manage.py changepassword`)")
        else:
            self.stdout.write(f"  Operator admin   {public_url('/admin/')}  {OPERATOR}")
            self.stdout.write(f"  Demo workspace   {workspace_url(DEMO_SUBDOMAIN, '/login/')}  {DEMO_OWNER}")
        self.stdout.write("")
