"""Every service declares its audit event, and a walk checks it.

`EXPECTED` lists every public function of the service modules (each app's services.py, and the modules
that change workspaces outside it): the audit action(s) it writes, or why it writes none. A new service
that is not in the table fails the inventory, so it must declare its event; a name that no longer exists
fails it too.

The walk calls each service that writes an event for real (real database, real arguments, Stripe's side
from billing.fake_stripe and signed webhooks, no mocks of our code) and checks that exactly the expected
events were written, for the right workspace, with the right actor kind and IP.
"""

import importlib
import inspect
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone
from djstripe.models import WebhookEndpoint

from accounts import export, signup
from accounts import services as accounts
from accounts.audit import MemberAction
from accounts.models import EmailChange, Invitation, User
from billing import reminders, webhooks
from billing import services as billing
from billing.audit import BillingAction
from billing.fake_stripe import customer_object, event_object, invoice_object, sign, subscription_object
from billing.models import BillingAccount, Invoice, Plan
from console import backups, restores
from console.audit import ConsoleAction
from core.models import ActorKind, AuditEvent
from legal import services as legal
from legal.audit import LegalAction
from notifications import services as notifications
from notifications.audit import EmailAction
from tenants import services as tenants
from tenants.audit import TenantAction
from tenants.models import Tenant
from tests.support.clients import host_client
from tests.support.workspaces import PASSWORD, add_member

ROOT = Path(__file__).resolve().parents[2]
IP = "203.0.113.9"
OPERATOR = "op@example.com"

# Modules outside services.py whose public functions change workspaces.
EXTRA_MODULES = [
    "console.backups.storage",
    "console.backups.postgres",
    "console.backups.manifests",
    "console.backups.dumps",
    "console.backups.restore",
    "console.restores",
    "accounts.signup",
    "accounts.export",
    "billing.webhooks",
    "billing.reminders",
]


@dataclass(frozen=True)
class NotAudited:
    """Writes no audit event, and why."""

    reason: str


def writes(*actions: str) -> frozenset[str]:
    """The actions a service may write; its scenarios below must, together, show every one."""
    return frozenset(actions)


EXPECTED: dict[str, frozenset[str] | NotAudited] = {
    # tenants.services
    "tenants.services.tenant_provision": writes(TenantAction.TENANT_PROVISIONED),
    "accounts.signup.workspace_create": writes(TenantAction.TENANT_PROVISIONED),
    "accounts.signup.workspace_signup": writes(TenantAction.TENANT_PROVISIONED, LegalAction.LEGAL_ACCEPTED),
    "tenants.services.tenant_suspend": writes(TenantAction.TENANT_SUSPENDED),
    "tenants.services.tenant_activate": writes(TenantAction.TENANT_ACTIVATED),
    # The action is its caller's (billing.services.billing_status_recompute picks it).
    "tenants.services.tenant_billing_status_set": writes(BillingAction.BILLING_PAYMENT_FAILED),
    "tenants.services.tenant_extend_trial": writes(TenantAction.TENANT_TRIAL_EXTENDED),
    "tenants.services.tenant_trial_end_set": writes(TenantAction.TENANT_TRIAL_END_SET),
    "tenants.services.tenant_update_settings": writes(TenantAction.TENANT_SETTINGS_CHANGED),
    "tenants.services.tenant_close": writes(TenantAction.TENANT_CLOSED),
    "tenants.services.tenant_reopen": writes(TenantAction.TENANT_REOPENED),
    "tenants.services.tenant_purge": writes(TenantAction.TENANT_PURGED),
    "tenants.services.tenants_purge_due": writes(TenantAction.TENANT_PURGED),
    # accounts.services
    "accounts.services.invitation_create": writes(MemberAction.MEMBER_INVITED),
    "accounts.services.invitation_resend": writes(MemberAction.MEMBER_INVITATION_RESENT),
    "accounts.services.invitation_revoke": writes(MemberAction.MEMBER_INVITATION_REVOKED),
    "accounts.services.invitation_for_token": NotAudited("read only"),
    "accounts.services.invitation_accept": writes(MemberAction.MEMBER_JOINED),
    "accounts.services.member_change_role": writes(
        MemberAction.MEMBER_ROLE_CHANGED, MemberAction.MEMBER_INVITATIONS_REVOKED
    ),
    "accounts.services.member_deactivate": writes(MemberAction.MEMBER_DEACTIVATED),
    "accounts.services.member_reactivate": writes(MemberAction.MEMBER_REACTIVATED),
    "accounts.services.ownership_transfer": writes(MemberAction.MEMBER_OWNERSHIP_TRANSFERRED),
    "accounts.services.actor_kind_of": NotAudited("read only"),
    "accounts.services.profile_update": writes(MemberAction.MEMBER_PROFILE_CHANGED),
    "accounts.services.password_changed": writes(MemberAction.MEMBER_PASSWORD_CHANGED),
    "accounts.services.password_reset_completed": writes(MemberAction.MEMBER_PASSWORD_RESET),
    "accounts.services.sessions_end_others": writes(MemberAction.MEMBER_SESSIONS_ENDED),
    "accounts.services.email_change_request": NotAudited(
        "a pending request: nothing changes until its link is followed (email_change_confirm audits that)"
    ),
    "accounts.services.email_change_check": NotAudited("read only"),
    "accounts.services.email_change_confirm": writes(MemberAction.MEMBER_EMAIL_CHANGED),
    "accounts.services.password_reset_request": NotAudited("queues a job; nothing changes until the link is used"),
    "accounts.services.password_reset_send": NotAudited(
        "emails a reset link (in the email log); password_reset_completed audits the reset"
    ),
    # billing.services
    "billing.services.account_for": NotAudited("creates the empty billing row on first use: no state of its own"),
    "billing.services.current_subscription": NotAudited("reads a list"),
    "billing.services.billing_status_recompute": writes(BillingAction.BILLING_SUBSCRIPTION_CHANGED),
    "billing.services.subscription_event_apply": writes(BillingAction.BILLING_SUBSCRIPTION_CHANGED),
    "billing.services.invoice_event_apply": writes(BillingAction.BILLING_PAYMENT_FAILED),
    "billing.services.grace_enforce_all": writes(BillingAction.BILLING_SUSPENDED_UNPAID),
    "billing.services.plan_comp": writes(BillingAction.BILLING_COMPED),
    "billing.services.plan_comp_lift": writes(BillingAction.BILLING_COMP_LIFTED),
    "billing.services.renewal_stop": writes(BillingAction.BILLING_RENEWAL_STOPPED),
    "billing.services.renewal_resume": writes(
        BillingAction.BILLING_RENEWAL_RESUMED, BillingAction.BILLING_SUBSCRIPTION_CHANGED
    ),
    "billing.services.customer_subscriptions_cancel": NotAudited(
        "runs after the workspace was purged (TENANT_PURGED): only Stripe's side is left to end"
    ),
    "billing.services.billing_reconcile": writes(BillingAction.BILLING_SUBSCRIPTION_CHANGED),
    # billing.webhooks: each Stripe event type we act on, through the signed URL
    "billing.webhooks.stripe_webhook": writes(
        BillingAction.BILLING_SUBSCRIPTION_CHANGED,
        BillingAction.BILLING_SUBSCRIPTION_CANCELLED,
        BillingAction.BILLING_PAYMENT_FAILED,
        BillingAction.BILLING_INVOICE_PAID,
    ),
    "billing.webhooks.event_process": writes(BillingAction.BILLING_SUBSCRIPTION_CHANGED),
    # billing.reminders: trial reminders, and the operators' trial changes that re-arm them
    "billing.reminders.reminder_kind": NotAudited("read only"),
    "billing.reminders.occasion_of": NotAudited("read only"),
    "billing.reminders.reminders_due": NotAudited("read only"),
    "billing.reminders.reminders_send": NotAudited("queues reminder emails (email log, notices)"),
    "billing.reminders.reminders_check_soon": NotAudited("queues a check"),
    "billing.reminders.trial_extend": writes(TenantAction.TENANT_TRIAL_EXTENDED),
    "billing.reminders.trial_end_set": writes(TenantAction.TENANT_TRIAL_END_SET),
    "legal.services.acceptance_record_current": writes(LegalAction.LEGAL_ACCEPTED),
    # notifications.services: the email log and suppression list are their own records.
    "notifications.services.email_queue": NotAudited("an EmailLog row is the record of every email"),
    "notifications.services.email_deliver": NotAudited("sends a logged email (the worker)"),
    "notifications.services.email_send_again": writes(EmailAction.EMAIL_RESENT),
    "notifications.services.notice_claim": NotAudited("marks a notice as sent, with the email it goes with"),
    "notifications.services.address_is_suppressed": NotAudited("read only"),
    "notifications.services.delivery_event_apply": NotAudited(
        "the provider's bounce or complaint suppresses an address for all workspaces (Suppression row)"
    ),
    # console.restores: the operators' backup and restore from the admin, run by the worker
    "console.restores.restore_allowed": NotAudited("read only: a permission check"),
    "console.restores.workspace_backup_queue": NotAudited("queues a job; the backup it runs writes TENANT_BACKED_UP"),
    "console.restores.restore_request_create": writes(ConsoleAction.TENANT_RESTORE_REQUESTED),
    "console.restores.restore_request_run": writes(ConsoleAction.TENANT_RESTORED),
    # accounts.export
    "accounts.export.audit_for_owners": NotAudited("read only"),
    "accounts.export.csv_cell": NotAudited("formats a CSV cell"),
    "accounts.export.tenant_export": writes(TenantAction.TENANT_EXPORTED),
    # console.backups
    "console.backups.storage.backups_storage": NotAudited("the storage object"),
    "console.backups.storage.storage_errors": NotAudited("turns storage errors into BackupError"),
    "console.backups.storage.listdir": NotAudited("read only"),
    "console.backups.storage.read": NotAudited("read only"),
    "console.backups.storage.fetch": NotAudited("copies a file out of the storage"),
    "console.backups.storage.save": NotAudited("stores a file (its caller audits the backup)"),
    "console.backups.storage.stamp_of": NotAudited("reads a name"),
    "console.backups.storage.expire": NotAudited("deletes backups past BACKUP_KEEP_DAYS (files, not workspaces)"),
    "console.backups.postgres.workspace_app_labels": NotAudited("read only"),
    "console.backups.postgres.run": NotAudited("runs a client program"),
    "console.backups.postgres.migrations_digest": NotAudited("read only"),
    "console.backups.postgres.repeatable_read": NotAudited("a snapshot to read in"),
    "console.backups.manifests.file_sha256": NotAudited("computes a checksum"),
    "console.backups.manifests.open_archive": NotAudited("checks and unpacks an archive"),
    "console.backups.manifests.labels_current": NotAudited("renames labels in memory"),
    "console.backups.dumps.tenant_models": NotAudited("read only"),
    "console.backups.dumps.tenant_field": NotAudited("read only"),
    "console.backups.dumps.public_rows": NotAudited("read only"),
    "console.backups.postgres.app_version": NotAudited("read only"),
    "console.backups.postgres.server_version": NotAudited("read only"),
    "console.backups.postgres.pg_program": NotAudited("read only"),
    "console.backups.dumps.newest_database_backup_at": NotAudited("read only"),
    "console.backups.postgres.lock_table_shortfall": NotAudited("read only"),
    "console.backups.dumps.database_backup": NotAudited("a whole-database file: no workspace changes"),
    "console.backups.dumps.workspace_backup": writes(ConsoleAction.TENANT_BACKED_UP),
    "console.backups.dumps.workspaces_backup_all": NotAudited(
        "the nightly copy of every workspace changes none of them (workspace_backup with audit=False)"
    ),
    "console.backups.dumps.workspaces_backup_last_run": NotAudited("read only"),
    "console.backups.dumps.backup_status": NotAudited("read only"),
    "console.backups.manifests.manifest_signature": NotAudited("computes a signature"),
    "console.backups.storage.purged_backups_delete": NotAudited("files of workspaces already purged (tenant.purged)"),
    "console.backups.dumps.database_backup_verify": NotAudited("reads the newest whole-database backup"),
    "console.backups.storage.workspace_backups": NotAudited("read only"),
    "console.backups.storage.workspace_backup_list": NotAudited("read only"),
    "console.backups.restore.restore_check": NotAudited("loads a backup into a scratch schema and rolls back"),
    "console.backups.restore.workspace_restore": writes(ConsoleAction.TENANT_RESTORED),
}


def service_modules() -> list[str]:
    """Every app's services.py (found on disk, so a new app's joins the table) and the extra modules."""
    apps = sorted(path.parent.name for path in ROOT.glob("*/services.py"))
    return [f"{app}.services" for app in apps] + EXTRA_MODULES


def public_functions() -> set[str]:
    found = set()
    for name in service_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == name and not attr.startswith("_"):
                found.add(f"{name}.{attr}")
    return found


# The world the scenarios build


@dataclass
class Act:
    """What a scenario arranged: the workspace the events must name, and the call that should write them."""

    tenant: Tenant | Callable[[], Tenant]  # a callable when the call makes the workspace
    call: Callable[[], object]


class World:
    def __init__(self, request):
        self.request = request
        self._stripe = None

    def workspace(self, subdomain: str = "walk", **kwargs) -> Tenant:
        return self.request.getfixturevalue("make_workspace")(subdomain, **kwargs)

    def committed_workspace(self, subdomain: str) -> Tenant:
        """A committed workspace, with the backups storage in the test's tmp_path."""
        self.request.getfixturevalue("backup_dir")
        return self.request.getfixturevalue("make_committed_workspace")(subdomain)

    def backed_up(self, subdomain: str) -> tuple[Tenant, backups.Backup]:
        """A committed workspace and a backup of it made by the operator."""
        tenant = self.committed_workspace(subdomain)
        return tenant, backups.workspace_backup(tenant=tenant, actor=OPERATOR)

    @staticmethod
    def inside(tenant: Tenant) -> None:
        """Put the connection on the workspace, as a request to its host does."""
        connection.set_tenant(tenant)

    @staticmethod
    def member(tenant: Tenant, email: str, role: str = User.Role.MEMBER) -> User:
        add_member(tenant, email, role=role)
        World.inside(tenant)
        return User.objects.get(email=email)

    @staticmethod
    def owner(tenant: Tenant) -> User:
        World.inside(tenant)
        return User.objects.get(email=tenant.owner_email)

    @property
    def stripe(self):
        if self._stripe is None:
            self._stripe = self.request.getfixturevalue("fake_stripe")
            for plan in Plan.objects.all():
                plan.stripe_price_monthly = f"price_{plan.slug}_month"
                plan.stripe_price_yearly = f"price_{plan.slug}_year"
                plan.save()
        return self._stripe

    def customer(self, tenant: Tenant) -> str:
        customer_id = f"cus_{tenant.subdomain}"
        BillingAccount.objects.update_or_create(tenant=tenant, defaults={"stripe_customer_id": customer_id})
        metadata = {"tenant_id": str(tenant.pk), "djstripe_subscriber": str(tenant.pk)}
        self.stripe.put(customer_object(customer_id, email=tenant.email, name=tenant.business_name, metadata=metadata))
        return customer_id

    def subscription(self, customer: str, *, status: str = "active", price: str = "price_growth_month") -> dict:
        return self.stripe.put(subscription_object(customer, sub_id=f"sub_{customer}", price=price, status=status))

    def invoice(self, customer: str, *, status: str = "open") -> dict:
        invoice = invoice_object(customer, inv_id=f"in_{customer}", sub_id=f"sub_{customer}", status=status)
        return self.stripe.put(invoice)

    def paying(self, tenant: Tenant, *, price: str = "price_growth_month") -> str:
        """An active workspace on a Stripe subscription."""
        customer = self.customer(tenant)
        self.subscription(customer, price=price)
        billing.subscription_event_apply(tenant=tenant)
        return customer

    def deliver(self, kind: str, obj: dict):
        """POST a signed event to the webhook URL, the object being Stripe's current state."""
        self.stripe.put(obj)
        endpoint = WebhookEndpoint.objects.first() or WebhookEndpoint.objects.create(
            id="we_walk",
            livemode=False,
            url="http://localhost/stripe/webhook/x/",
            secret="whsec_walk_secret",
            api_version="2024-06-20",
            enabled_events=["*"],
            status="enabled",
            djstripe_uuid=uuid.uuid4(),
        )
        payload = json.dumps(event_object(kind, obj, event_id=f"evt_walk_{uuid.uuid4().hex}"))
        settings = self.request.getfixturevalue("settings")
        response = host_client(settings.BASE_DOMAIN).post(
            f"/stripe/webhook/{endpoint.djstripe_uuid}/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload, endpoint.secret),
        )
        assert response.status_code == 200, response.content
        return response


@dataclass(frozen=True)
class Scenario:
    service: str
    build: Callable[[World], Act]
    events: tuple[tuple[str, ActorKind], ...]
    ip: str | None = None
    purges: bool = False  # the workspace is gone: its events keep only its name
    committed: bool = False  # needs committed data (backups run outside the test's transaction)


SCENARIOS: dict[str, Scenario] = {}


def scenario(service: str, *events: tuple[str, ActorKind], name: str = "", **options):
    def register(build):
        key = f"{service}[{name}]" if name else service
        assert key not in SCENARIOS, key
        SCENARIOS[key] = Scenario(service, build, events, **options)
        return build

    return register


# tenants.services


def _new_workspace(provision: Callable[..., Tenant], **owner) -> Act:
    """The call makes the workspace "walk" with `provision` (tenant_provision, workspace_create or _signup)."""
    made = {}

    def call():
        made["tenant"] = provision(
            business_name="Walk",
            subdomain="walk",
            owner_email="owner@walk.test",
            owner_name="Owner",
            ip_address=IP,
            **owner,
        )

    return Act(tenant=lambda: made["tenant"], call=call)


@scenario("tenants.services.tenant_provision", (TenantAction.TENANT_PROVISIONED, ActorKind.OWNER), ip=IP)
def _provision(world):
    return _new_workspace(tenants.tenant_provision)


@scenario("accounts.signup.workspace_create", (TenantAction.TENANT_PROVISIONED, ActorKind.OWNER), ip=IP)
def _create(world):
    return _new_workspace(signup.workspace_create, owner_password_hash=make_password(PASSWORD))


@scenario(
    "accounts.signup.workspace_signup",
    (TenantAction.TENANT_PROVISIONED, ActorKind.OWNER),
    (LegalAction.LEGAL_ACCEPTED, ActorKind.OWNER),
    ip=IP,
)
def _signup(world):
    return _new_workspace(signup.workspace_signup, owner_password_hash=make_password(PASSWORD))


@scenario("legal.services.acceptance_record_current", (LegalAction.LEGAL_ACCEPTED, ActorKind.OWNER), ip=IP)
def _legal_accepted(world):
    tenant = world.workspace()
    return Act(tenant, lambda: legal.acceptance_record_current(tenant=tenant, email=tenant.owner_email, ip_address=IP))


@scenario("tenants.services.tenant_suspend", (TenantAction.TENANT_SUSPENDED, ActorKind.OPERATOR), ip=IP)
def _suspend(world):
    tenant = world.workspace()
    return Act(tenant, lambda: tenants.tenant_suspend(tenant=tenant, actor=OPERATOR, reason="abuse", ip_address=IP))


@scenario("tenants.services.tenant_activate", (TenantAction.TENANT_ACTIVATED, ActorKind.OPERATOR), ip=IP)
def _activate(world):
    tenant = world.workspace()
    tenants.tenant_suspend(tenant=tenant, actor=OPERATOR)
    return Act(tenant, lambda: tenants.tenant_activate(tenant=tenant, actor=OPERATOR, ip_address=IP))


@scenario("tenants.services.tenant_billing_status_set", (BillingAction.BILLING_PAYMENT_FAILED, ActorKind.STRIPE))
def _billing_status(world):
    tenant = world.workspace()
    return Act(
        tenant,
        lambda: tenants.tenant_billing_status_set(
            tenant=tenant, status=Tenant.Status.PAST_DUE, action=BillingAction.BILLING_PAYMENT_FAILED, details={}
        ),
    )


@scenario("tenants.services.tenant_extend_trial", (TenantAction.TENANT_TRIAL_EXTENDED, ActorKind.OPERATOR), ip=IP)
def _extend_trial(world):
    tenant = world.workspace()
    return Act(tenant, lambda: tenants.tenant_extend_trial(tenant=tenant, days=7, actor=OPERATOR, ip_address=IP))


@scenario("tenants.services.tenant_trial_end_set", (TenantAction.TENANT_TRIAL_END_SET, ActorKind.OPERATOR), ip=IP)
def _trial_end_set(world):
    tenant = world.workspace()
    return Act(tenant, lambda: tenants.tenant_trial_end_set(tenant=tenant, days=3, actor=OPERATOR, ip_address=IP))


@scenario("tenants.services.tenant_update_settings", (TenantAction.TENANT_SETTINGS_CHANGED, ActorKind.OWNER), ip=IP)
def _update_settings(world):
    tenant = world.workspace()
    world.inside(tenant)
    return Act(
        tenant,
        lambda: tenants.tenant_update_settings(
            tenant=tenant,
            actor=tenant.owner_email,
            actor_kind=ActorKind.OWNER,
            business_name="Walk & Co",
            billing_email="billing@walk.test",
            ip_address=IP,
        ),
    )


@scenario("tenants.services.tenant_close", (TenantAction.TENANT_CLOSED, ActorKind.OWNER), ip=IP)
def _close(world):
    tenant = world.workspace()
    world.inside(tenant)
    return Act(tenant, lambda: tenants.tenant_close(tenant=tenant, actor=tenant.owner_email, ip_address=IP))


@scenario("tenants.services.tenant_reopen", (TenantAction.TENANT_REOPENED, ActorKind.OPERATOR), ip=IP)
def _reopen(world):
    tenant = world.workspace()
    tenants.tenant_close(tenant=tenant, actor=tenant.owner_email)
    return Act(tenant, lambda: tenants.tenant_reopen(tenant=tenant, actor=OPERATOR, ip_address=IP))


def _closed_long_ago(world) -> Tenant:
    tenant = world.workspace()
    tenants.tenant_close(tenant=tenant, actor=tenant.owner_email)
    Tenant.objects.filter(pk=tenant.pk).update(closed_at=timezone.now() - timedelta(days=400))
    return tenant


@scenario("tenants.services.tenant_purge", (TenantAction.TENANT_PURGED, ActorKind.SYSTEM), purges=True)
def _purge(world):
    tenant = _closed_long_ago(world)
    return Act(tenant, lambda: tenants.tenant_purge(tenant=tenant))


@scenario("tenants.services.tenants_purge_due", (TenantAction.TENANT_PURGED, ActorKind.SYSTEM), purges=True)
def _purge_due(world):
    tenant = _closed_long_ago(world)
    return Act(tenant, lambda: tenants.tenants_purge_due())


# accounts.services (inside the workspace, acted by its owner unless said otherwise)


@scenario("accounts.services.invitation_create", (MemberAction.MEMBER_INVITED, ActorKind.OWNER), ip=IP)
def _invite(world):
    tenant = world.workspace()
    owner = world.owner(tenant)
    return Act(
        tenant, lambda: accounts.invitation_create(inviter=owner, email="new@walk.test", role="member", ip_address=IP)
    )


def _invited(world) -> tuple[Tenant, User, Invitation]:
    tenant = world.workspace()
    owner = world.owner(tenant)
    invitation = accounts.invitation_create(inviter=owner, email="new@walk.test", role="member")
    return tenant, owner, invitation


@scenario("accounts.services.invitation_resend", (MemberAction.MEMBER_INVITATION_RESENT, ActorKind.OWNER), ip=IP)
def _resend(world):
    tenant, owner, invitation = _invited(world)
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(days=1))
    return Act(tenant, lambda: accounts.invitation_resend(actor=owner, invitation=invitation, ip_address=IP))


@scenario("accounts.services.invitation_revoke", (MemberAction.MEMBER_INVITATION_REVOKED, ActorKind.OWNER), ip=IP)
def _revoke(world):
    tenant, owner, invitation = _invited(world)
    return Act(tenant, lambda: accounts.invitation_revoke(actor=owner, invitation=invitation, ip_address=IP))


@scenario("accounts.services.invitation_accept", (MemberAction.MEMBER_JOINED, ActorKind.MEMBER), ip=IP)
def _accept(world):
    tenant, _, invitation = _invited(world)
    token = invitation.link_token()
    return Act(
        tenant, lambda: accounts.invitation_accept(token=token, full_name="New", password=PASSWORD, ip_address=IP)
    )


@scenario("accounts.services.member_change_role", (MemberAction.MEMBER_ROLE_CHANGED, ActorKind.OWNER), ip=IP)
def _change_role(world):
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test")
    owner = world.owner(tenant)
    return Act(tenant, lambda: accounts.member_change_role(actor=owner, member=member, role="admin", ip_address=IP))


@scenario(
    "accounts.services.member_change_role",
    (MemberAction.MEMBER_INVITATIONS_REVOKED, ActorKind.OWNER),
    (MemberAction.MEMBER_ROLE_CHANGED, ActorKind.OWNER),
    name="an admin who invited someone made a member",
    ip=IP,
)
def _demote(world):
    tenant = world.workspace()
    admin = world.member(tenant, "ada@walk.test", role=User.Role.ADMIN)
    accounts.invitation_create(inviter=admin, email="friend@walk.test", role="member")
    owner = world.owner(tenant)
    return Act(tenant, lambda: accounts.member_change_role(actor=owner, member=admin, role="member", ip_address=IP))


@scenario("accounts.services.member_deactivate", (MemberAction.MEMBER_DEACTIVATED, ActorKind.OWNER), ip=IP)
def _deactivate(world):
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test")
    owner = world.owner(tenant)
    return Act(tenant, lambda: accounts.member_deactivate(actor=owner, member=member, ip_address=IP))


@scenario("accounts.services.member_reactivate", (MemberAction.MEMBER_REACTIVATED, ActorKind.OWNER), ip=IP)
def _reactivate(world):
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test")
    owner = world.owner(tenant)
    accounts.member_deactivate(actor=owner, member=member)
    return Act(tenant, lambda: accounts.member_reactivate(actor=owner, member=member, ip_address=IP))


@scenario("accounts.services.ownership_transfer", (MemberAction.MEMBER_OWNERSHIP_TRANSFERRED, ActorKind.OWNER), ip=IP)
def _transfer(world):
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test", role=User.Role.ADMIN)
    owner = world.owner(tenant)
    return Act(tenant, lambda: accounts.ownership_transfer(actor=owner, member=member, ip_address=IP))


@scenario("accounts.services.profile_update", (MemberAction.MEMBER_PROFILE_CHANGED, ActorKind.MEMBER), ip=IP)
def _profile(world):
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test")
    return Act(tenant, lambda: accounts.profile_update(user=member, full_name="Mia Meyer", ip_address=IP))


def _new_password(world, record: Callable[..., None]) -> Act:
    """The call saves a member's new password, as Django's password change and reset forms do, then `record`s it."""
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test")

    def call():
        member.set_password("a brand new passphrase 77")
        member.save()
        record(user=member, ip_address=IP)

    return Act(tenant, call)


@scenario("accounts.services.password_changed", (MemberAction.MEMBER_PASSWORD_CHANGED, ActorKind.MEMBER), ip=IP)
def _password_changed(world):
    return _new_password(world, accounts.password_changed)


@scenario("accounts.services.password_reset_completed", (MemberAction.MEMBER_PASSWORD_RESET, ActorKind.MEMBER), ip=IP)
def _password_reset(world):
    return _new_password(world, accounts.password_reset_completed)


@scenario("accounts.services.sessions_end_others", (MemberAction.MEMBER_SESSIONS_ENDED, ActorKind.MEMBER), ip=IP)
def _sessions_end(world):
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test")
    request = RequestFactory().post("/account/sessions/end-others/", REMOTE_ADDR=IP)
    request.user, request.session = member, SessionStore()
    return Act(tenant, lambda: accounts.sessions_end_others(request=request, user=member))


@scenario("accounts.services.email_change_confirm", (MemberAction.MEMBER_EMAIL_CHANGED, ActorKind.MEMBER), ip=IP)
def _email_change(world):
    tenant = world.workspace()
    member = world.member(tenant, "mia@walk.test")
    accounts.email_change_request(user=member, new_email="mia.meyer@walk.test")
    token = EmailChange.objects.get(user=member).link_token()
    return Act(tenant, lambda: accounts.email_change_confirm(token=token, ip_address=IP))


# billing.services (Stripe's side from the fake; what Stripe makes happen is acted by "stripe")


@scenario("billing.services.billing_status_recompute", (BillingAction.BILLING_SUBSCRIPTION_CHANGED, ActorKind.STRIPE))
def _recompute(world):
    tenant = world.workspace()
    BillingAccount.objects.create(tenant=tenant, stripe_subscription_id="sub_x", subscription_status="active")

    def call():
        with transaction.atomic():
            Tenant.objects.select_for_update().get(pk=tenant.pk)
            account = BillingAccount.objects.select_for_update().select_related("tenant").get(tenant=tenant)
            billing.billing_status_recompute(account=account)

    return Act(tenant, call)


@scenario("billing.services.subscription_event_apply", (BillingAction.BILLING_SUBSCRIPTION_CHANGED, ActorKind.STRIPE))
def _subscription_event(world):
    tenant = world.workspace()
    world.subscription(world.customer(tenant))
    return Act(tenant, lambda: billing.subscription_event_apply(tenant=tenant))


@scenario("billing.services.invoice_event_apply", (BillingAction.BILLING_PAYMENT_FAILED, ActorKind.STRIPE))
def _invoice_event(world):
    tenant = world.workspace()
    invoice = world.invoice(world.paying(tenant))
    return Act(
        tenant,
        lambda: billing.invoice_event_apply(
            tenant=tenant, kind="invoice.payment_failed", invoice=invoice, event_created=timezone.now()
        ),
    )


@scenario("billing.services.grace_enforce_all", (BillingAction.BILLING_SUSPENDED_UNPAID, ActorKind.SYSTEM))
def _grace(world):
    tenant = world.workspace()
    invoice = world.invoice(world.paying(tenant))
    billing.invoice_event_apply(
        tenant=tenant, kind="invoice.payment_failed", invoice=invoice, event_created=timezone.now()
    )
    Invoice.objects.filter(stripe_id=invoice["id"]).update(first_failed_at=timezone.now() - timedelta(days=30))
    return Act(tenant, lambda: billing.grace_enforce_all())


@scenario("billing.services.plan_comp", (BillingAction.BILLING_COMPED, ActorKind.OPERATOR), ip=IP)
def _comp(world):
    tenant = world.workspace()
    plan = Plan.objects.get(slug="growth")
    return Act(tenant, lambda: billing.plan_comp(tenant=tenant, plan=plan, actor=OPERATOR, ip_address=IP))


@scenario("billing.services.plan_comp_lift", (BillingAction.BILLING_COMP_LIFTED, ActorKind.OPERATOR), ip=IP)
def _comp_lift(world):
    tenant = world.workspace()
    world.paying(tenant, price="price_growth_month")
    billing.plan_comp(tenant=tenant, plan=Plan.objects.get(slug="growth"), actor=OPERATOR)
    return Act(tenant, lambda: billing.plan_comp_lift(tenant=tenant, actor=OPERATOR, ip_address=IP))


@scenario("billing.services.renewal_stop", (BillingAction.BILLING_RENEWAL_STOPPED, ActorKind.SYSTEM))
def _renewal_stop(world):
    tenant = world.workspace()
    world.paying(tenant)
    tenants.tenant_close(tenant=tenant, actor=tenant.owner_email)
    return Act(tenant, lambda: billing.renewal_stop(tenant=tenant))


@scenario(
    "billing.services.renewal_resume",
    (BillingAction.BILLING_RENEWAL_RESUMED, ActorKind.SYSTEM),
    (BillingAction.BILLING_SUBSCRIPTION_CHANGED, ActorKind.STRIPE),  # trialing since the reopening: active again
)
def _renewal_resume(world):
    tenant = world.workspace()
    world.paying(tenant)
    tenants.tenant_close(tenant=tenant, actor=tenant.owner_email)
    billing.renewal_stop(tenant=tenant)
    tenants.tenant_reopen(tenant=tenant, actor=OPERATOR)
    return Act(tenant, lambda: billing.renewal_resume(tenant=tenant))


@scenario("billing.services.billing_reconcile", (BillingAction.BILLING_SUBSCRIPTION_CHANGED, ActorKind.STRIPE))
def _reconcile(world):
    tenant = world.workspace()
    world.subscription(world.customer(tenant))  # a webhook that never reached us
    return Act(tenant, lambda: billing.billing_reconcile())


@scenario("billing.reminders.trial_extend", (TenantAction.TENANT_TRIAL_EXTENDED, ActorKind.OPERATOR), ip=IP)
def _reminders_trial_extend(world):
    tenant = world.workspace()
    return Act(tenant, lambda: reminders.trial_extend(tenant=tenant, days=7, actor=OPERATOR, ip_address=IP))


@scenario("billing.reminders.trial_end_set", (TenantAction.TENANT_TRIAL_END_SET, ActorKind.OPERATOR), ip=IP)
def _reminders_trial_end_set(world):
    tenant = world.workspace()
    return Act(tenant, lambda: reminders.trial_end_set(tenant=tenant, days=3, actor=OPERATOR, ip_address=IP))


# notifications.services: the audit trail hears of a resend through a signal (notifications is below tenants)


@scenario("notifications.services.email_send_again", (EmailAction.EMAIL_RESENT, ActorKind.OPERATOR), ip=IP)
def _email_send_again(world):
    tenant = world.workspace()
    email = notifications.email_queue(kind="welcome", to=tenant.owner_email, tenant=tenant)
    return Act(tenant, lambda: notifications.email_send_again(email=email, actor=OPERATOR, ip_address=IP))


# billing.webhooks: signed deliveries to the webhook URL


@scenario(
    "billing.webhooks.stripe_webhook",
    (BillingAction.BILLING_SUBSCRIPTION_CHANGED, ActorKind.STRIPE),
    name="customer.subscription.updated",
)
def _hook_subscription_updated(world):
    tenant = world.workspace()
    customer = world.customer(tenant)
    subscription = subscription_object(customer, sub_id=f"sub_{customer}", price="price_growth_month")
    return Act(tenant, lambda: world.deliver("customer.subscription.updated", subscription))


@scenario(
    "billing.webhooks.stripe_webhook",
    (BillingAction.BILLING_SUBSCRIPTION_CHANGED, ActorKind.STRIPE),
    name="customer.subscription.updated to another plan",
)
def _hook_plan_changed(world):
    tenant = world.workspace()
    customer = world.paying(tenant, price="price_growth_month")
    subscription = subscription_object(customer, sub_id=f"sub_{customer}", price="price_scale_month")

    def call():
        world.deliver("customer.subscription.updated", subscription)
        tenant.refresh_from_db()
        assert (tenant.status, tenant.plan) == (Tenant.Status.ACTIVE, "scale")

    return Act(tenant, call)


@scenario(
    "billing.webhooks.stripe_webhook",
    (BillingAction.BILLING_SUBSCRIPTION_CANCELLED, ActorKind.STRIPE),
    name="customer.subscription.deleted",
)
def _hook_subscription_deleted(world):
    tenant = world.workspace()
    customer = world.paying(tenant)
    Tenant.objects.filter(pk=tenant.pk).update(trial_ends_at=timezone.now() - timedelta(days=1))
    subscription = subscription_object(customer, sub_id=f"sub_{customer}", price="price_growth_month")
    subscription["status"] = "canceled"
    return Act(tenant, lambda: world.deliver("customer.subscription.deleted", subscription))


@scenario(
    "billing.webhooks.stripe_webhook",
    (BillingAction.BILLING_PAYMENT_FAILED, ActorKind.STRIPE),
    name="invoice.payment_failed",
)
def _hook_payment_failed(world):
    tenant = world.workspace()
    customer = world.paying(tenant)
    invoice = invoice_object(customer, inv_id=f"in_{customer}", sub_id=f"sub_{customer}")
    return Act(tenant, lambda: world.deliver("invoice.payment_failed", invoice))


@scenario(
    "billing.webhooks.stripe_webhook",
    (BillingAction.BILLING_INVOICE_PAID, ActorKind.STRIPE),
    name="invoice.paid",
)
def _hook_invoice_paid(world):
    tenant = world.workspace()
    customer = world.paying(tenant)
    world.deliver("invoice.payment_failed", invoice_object(customer, inv_id=f"in_{customer}", sub_id=f"sub_{customer}"))
    paid = invoice_object(customer, inv_id=f"in_{customer}", sub_id=f"sub_{customer}", status="paid")
    return Act(tenant, lambda: world.deliver("invoice.paid", paid))


@scenario("billing.webhooks.event_process", (BillingAction.BILLING_SUBSCRIPTION_CHANGED, ActorKind.STRIPE))
def _event_process(world):
    tenant = world.workspace()
    customer = world.customer(tenant)
    subscription = world.subscription(customer)
    event = event_object("customer.subscription.created", subscription, event_id="evt_walk_process")
    return Act(tenant, lambda: webhooks.event_process(event))


# accounts.export


@scenario("accounts.export.tenant_export", (TenantAction.TENANT_EXPORTED, ActorKind.OWNER), ip=IP)
def _export(world):
    tenant = world.workspace()
    world.inside(tenant)
    return Act(tenant, lambda: export.tenant_export(tenant=tenant, actor=tenant.owner_email, ip_address=IP))


# console.backups: committed data (a backup refuses to run inside a transaction)


@scenario(
    "console.backups.dumps.workspace_backup", (ConsoleAction.TENANT_BACKED_UP, ActorKind.OPERATOR), committed=True
)
def _backup(world):
    tenant = world.committed_workspace("walkbackup")
    return Act(tenant, lambda: backups.workspace_backup(tenant=tenant, actor=OPERATOR))


@scenario(
    "console.backups.restore.workspace_restore", (ConsoleAction.TENANT_RESTORED, ActorKind.OPERATOR), committed=True
)
def _restore(world):
    tenant, backup = world.backed_up("walkrestore")
    return Act(tenant, lambda: backups.workspace_restore(backup=backup.name, actor=OPERATOR))


@scenario(
    "console.restores.restore_request_create",
    (ConsoleAction.TENANT_RESTORE_REQUESTED, ActorKind.OPERATOR),
    ip=IP,
    committed=True,
)
def _restore_request(world):
    tenant, backup = world.backed_up("walkrequest")
    return Act(
        tenant,
        lambda: restores.restore_request_create(
            tenant=tenant, backup=backup.name, requested_by=OPERATOR, ip_address=IP
        ),
    )


@scenario("console.restores.restore_request_run", (ConsoleAction.TENANT_RESTORED, ActorKind.OPERATOR), committed=True)
def _restore_run(world):
    tenant, backup = world.backed_up("walkrun")
    request = restores.restore_request_create(tenant=tenant, backup=backup.name, requested_by=OPERATOR)
    return Act(tenant, lambda: restores.restore_request_run(request_id=request.pk))


# The tests


def test_every_public_service_function_declares_its_audit_event():
    found = public_functions()
    assert {"tenants", "accounts", "billing", "legal", "notifications"} <= {m.split(".")[0] for m in service_modules()}
    missing = sorted(found - EXPECTED.keys())
    assert missing == [], f"public service functions without an entry in EXPECTED (their audit event): {missing}"
    gone = sorted(EXPECTED.keys() - found)
    assert gone == [], f"EXPECTED names functions that no longer exist: {gone}"

    for name, expected in EXPECTED.items():
        if isinstance(expected, NotAudited):
            assert expected.reason.strip(), f"{name}: say why it writes no audit event"
        else:
            shown = {action for s in SCENARIOS.values() if s.service == name for action, _ in s.events}
            assert expected <= shown, f"{name}: no scenario shows {sorted(expected - shown)}"
    for key, walked in SCENARIOS.items():
        expected = EXPECTED.get(walked.service)
        assert isinstance(expected, frozenset), f"{key}: {walked.service} is not a service that writes an event"
        module, function = walked.service.rsplit(".", 1)
        parameters = inspect.signature(getattr(importlib.import_module(module), function)).parameters
        by_a_person = {kind for _, kind in walked.events} & {ActorKind.OWNER, ActorKind.MEMBER, ActorKind.OPERATOR}
        if by_a_person and {"ip_address", "request"} & parameters.keys():
            assert walked.ip, f"{key}: {walked.service} takes the person's address: check that it is recorded"


def _walk(world: World, walked: Scenario) -> None:
    connection.set_schema_to_public()
    act = walked.build(world)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    act.call()
    connection.set_schema_to_public()
    tenant = act.tenant() if callable(act.tenant) else act.tenant
    new = list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))
    assert [(event.action, event.actor_kind) for event in new] == list(walked.events)
    for event in new:
        assert event.tenant_id == (None if walked.purges else tenant.pk), event
        assert event.tenant_label == tenant.subdomain, event
        assert event.ip_address == walked.ip, event


@pytest.mark.django_db
@pytest.mark.parametrize("key", [key for key, s in SCENARIOS.items() if not s.committed])
def test_the_service_writes_its_audit_event(key, request):
    _walk(World(request), SCENARIOS[key])


@pytest.mark.parametrize("key", [key for key, s in SCENARIOS.items() if s.committed])
def test_the_service_writes_its_audit_event_on_committed_data(key, request, committed_db):
    _walk(World(request), SCENARIOS[key])
