import csv
import logging
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from accounts.export import csv_cell
from billing import reminders
from billing import services as billing_services
from billing.models import BillingAccount, Invoice, Plan, money
from console import backups, restores, selectors
from console.models import LaunchCheckRun, RestoreRequest
from core.admin_base import ReadOnlyAdmin
from core.audit import AuditEvent, action_choices
from core.http import client_ip
from notifications.models import EmailLog
from tenants import services
from tenants.audit import TenantAction
from tenants.models import Domain, Tenant

logger = logging.getLogger(__name__)

# Rows of each kind on a workspace's page; the full lists are one link away.
LATEST = 20


class TenantActionForm(ActionForm):
    plan = forms.ModelChoiceField(Plan.objects.all(), required=False, empty_label="Plan (comp)", to_field_name="slug")
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        initial=14,
        label="Days (trial)",
        widget=forms.NumberInput(attrs={"style": "width: 5em"}),
    )


class TenantChangeList(ChangeList):
    """Per page: user counts in one query across schemas, and the plans in one more."""

    def get_results(self, request):
        super().get_results(request)
        counts = selectors.user_counts(tenant.schema_name for tenant in self.result_list)
        plans = {plan.slug: plan for plan in Plan.objects.all()}
        for tenant in self.result_list:
            tenant.user_count = counts.get(tenant.schema_name, 0)
            tenant.plan_object = plans.get(tenant.plan)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class BillingAccountInline(admin.StackedInline):
    model = BillingAccount
    can_delete = False
    fields = (
        "stripe_customer_id",
        "stripe_mirror",
        "stripe_subscription_id",
        "subscription_status",
        "interval",
        "current_period_end",
        "cancel_at_period_end",
        "payment_failed_at",
        "comped",
    )
    readonly_fields = fields
    verbose_name_plural = "Billing"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Stripe mirror")
    def stripe_mirror(self, account):
        """Links to dj-stripe's mirror of this workspace's customer, subscriptions and invoices."""
        if not account.stripe_customer_id:
            return "-"
        links = [
            (reverse("admin:djstripe_customer_changelist") + f"?id={account.stripe_customer_id}", "customer"),
            (
                reverse("admin:djstripe_subscription_changelist") + f"?customer__id={account.stripe_customer_id}",
                "subscriptions",
            ),
            (reverse("admin:djstripe_invoice_changelist") + f"?customer__id={account.stripe_customer_id}", "invoices"),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)


class RestoreConfirmForm(forms.Form):
    """Restoring replaces a workspace's data (or makes a new workspace): the operator types its subdomain,
    as GitHub asks for a repository's name before deleting it."""

    IN_PLACE, COPY = "in_place", "copy"

    backup = forms.CharField(widget=forms.HiddenInput)
    mode = forms.ChoiceField(choices=[(IN_PLACE, "In place"), (COPY, "As a new workspace")], widget=forms.HiddenInput)
    as_subdomain = forms.CharField(
        required=False,
        max_length=63,
        label="Subdomain of the new workspace",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    confirm = forms.CharField(
        max_length=63,
        label="Type the workspace's subdomain to confirm",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, subdomain: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.subdomain = subdomain

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.subdomain:
            raise forms.ValidationError(f"Type {self.subdomain} exactly to confirm.")
        return typed

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("mode") == self.COPY and not cleaned.get("as_subdomain"):
            self.add_error("as_subdomain", "Choose the subdomain of the new workspace.")
        if cleaned.get("mode") == self.IN_PLACE:
            cleaned["as_subdomain"] = ""
        return cleaned


class PlanFilter(admin.SimpleListFilter):
    title = "plan"
    parameter_name = "plan"

    def lookups(self, request, model_admin):
        return [(plan.slug, plan.name) for plan in Plan.objects.all()]

    def queryset(self, request, queryset):
        return queryset.filter(plan=self.value()) if self.value() else queryset


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "business_name",
        "subdomain",
        "status",
        "plan_label",
        "subscription",
        "monthly",
        "trial_end",
        "users",
        "stripe_customer",
        "created",
    ]
    list_select_related = ["billing"]
    list_filter = ["status", PlanFilter]
    search_fields = ["business_name", "subdomain", "owner_email"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    action_form = TenantActionForm
    actions = ["suspend", "activate", "extend_trial", "trial_end_set", "comp_plan", "comp_lift", "reopen"]
    inlines = [DomainInline, BillingAccountInline]
    # The page adds usage, invoices, backups and restores, emails and the audit trail (_workspace_panels).
    change_form_template = "admin/tenants/tenant/change_form.html"
    # Read-only: every change goes through a service (the actions above) so that it is audited.
    fields = readonly_fields = (
        "business_name",
        "subdomain",
        "schema_name",
        "status",
        "plan",
        "trial_ends_at",
        "owner_name",
        "owner_email",
        "billing_email",
        "users",
        "created_at",
        "closed_at",
        "updated_at",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.workspaces()  # type: ignore[attr-defined]  # stubs: a QuerySet; here a TenantQuerySet

    def get_changelist(self, request, **kwargs):
        return TenantChangeList

    def has_add_permission(self, request):
        return False  # workspaces are created by signup, which also provisions the schema

    def has_delete_permission(self, request, obj=None):
        return False  # closing and purging is a service with a grace period, not a delete button

    def get_urls(self):
        own = [
            path("<int:object_id>/backup/", self.admin_site.admin_view(self.backup_view), name="tenants_tenant_backup"),
            path(
                "<int:object_id>/restore/", self.admin_site.admin_view(self.restore_view), name="tenants_tenant_restore"
            ),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The panels only when the page is shown: after Django's permission check, on the object it fetched,
        and not for a POST that redirects."""
        if obj is not None:
            context.update(self._workspace_panels(request, obj))
            obj.user_count = context["usage"].members  # what the "users" field shows, without its own query
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _workspace_panels(self, request, tenant: Tenant) -> dict:
        """What the workspace's page shows besides its fields: a bounded number of queries, none on other
        workspaces' schemas."""

        def changelist(model, **params) -> str:
            return (
                reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") + "?" + urlencode(params)
            )

        try:
            stored = backups.workspace_backup_list(subdomain=tenant.workspace_subdomain)
            backups_error = ""
        except Exception as error:  # the page stays usable when the backups storage is not
            logger.exception("could not list the backups of %s", tenant.subdomain)
            stored, backups_error = [], f"The backups could not be listed: {error}"
        return {
            "usage": selectors.workspace_usage(tenant),
            "active_days": selectors.ACTIVE_DAYS,
            "invoices": Invoice.objects.filter(tenant=tenant).order_by("-created")[:LATEST],
            "emails": EmailLog.objects.filter(tenant=tenant).order_by("-created_at", "-id")[:LATEST],
            "events": AuditEvent.objects.filter(tenant=tenant).order_by("-created_at", "-id")[:LATEST],
            "restore_requests": RestoreRequest.objects.filter(tenant_id=tenant.pk)[:LATEST],
            "backups": stored,
            "backups_error": backups_error,
            "backup_keep_days": settings.BACKUP_KEEP_DAYS,
            "can_restore": restores.restore_allowed(request.user),
            "latest": LATEST,
            "links": {
                "invoices": changelist(Invoice, tenant__id__exact=tenant.pk),
                "emails": changelist(EmailLog, tenant__id__exact=tenant.pk),
                "email_failures": changelist(
                    EmailLog, tenant__id__exact=tenant.pk, status__in=",".join(EmailLog.FAILURES)
                ),
                "exports": changelist(
                    AuditEvent, tenant__id__exact=tenant.pk, action__exact=TenantAction.TENANT_EXPORTED
                ),
                "events": changelist(AuditEvent, tenant__id__exact=tenant.pk),
                "restores": changelist(RestoreRequest, tenant_id=tenant.pk),
            },
        }

    def _workspace_or_404(self, request, object_id) -> Tenant:
        tenant = self.get_object(request, object_id)
        if tenant is None:
            raise Http404("No such workspace.")
        return tenant

    def _back_to(self, tenant: Tenant, anchor: str = "") -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[tenant.pk]) + anchor)

    def backup_view(self, request, object_id):
        """ "Back up now": queued for the worker (a workspace's backup takes a while)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        tenant = self._workspace_or_404(request, object_id)
        if not self.has_change_permission(request, tenant):
            raise PermissionDenied
        if restores.workspace_backup_queue(tenant=tenant, actor=request.user.email):
            self.message_user(
                request, f"Backup of {tenant.subdomain} queued: it is listed here once made.", messages.SUCCESS
            )
        else:
            self.message_user(request, f"A backup of {tenant.subdomain} is already queued.", messages.WARNING)
        return self._back_to(tenant, "#backups")

    def restore_view(self, request, object_id):
        """The confirmation page of a restore (GET), and the request itself (POST): queued for the worker."""
        tenant = self._workspace_or_404(request, object_id)
        if not restores.restore_allowed(request.user):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        mode = (
            RestoreConfirmForm.COPY
            if (data or request.GET).get("mode") == RestoreConfirmForm.COPY
            else RestoreConfirmForm.IN_PLACE
        )
        name = (data or request.GET).get("backup", "")
        try:
            listed = backups.workspace_backup_list(subdomain=tenant.workspace_subdomain)
        except backups.BackupError as error:  # the storage is down: say so, not a 500
            self.message_user(request, f"The backups could not be listed: {error}", messages.ERROR)
            return self._back_to(tenant, "#backups")
        backup = next((b for b in listed if b.name == name), None)
        if backup is None:
            raise Http404("No such backup of this workspace.")
        form = RestoreConfirmForm(data, subdomain=tenant.workspace_subdomain, initial={"backup": name, "mode": mode})
        if data is not None and form.is_valid():
            try:
                queued = restores.restore_request_create(
                    tenant=tenant,
                    backup=backup.name,
                    as_subdomain=form.cleaned_data["as_subdomain"],
                    requested_by=request.user.email,
                    ip_address=client_ip(request),
                )
            except restores.RestoreRefused as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    f"Restore of {tenant.subdomain} from {queued.backup_filename} queued. "
                    "This page follows it until it is done.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:console_restorerequest_change", args=[queued.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": tenant,
            "title": f"Restore {tenant.subdomain}" + (" as a new workspace" if mode == RestoreConfirmForm.COPY else ""),
            "form": form,
            "backup": backup,
            "as_new": mode == RestoreConfirmForm.COPY,
            "base_domain": settings.BASE_DOMAIN,
        }
        return TemplateResponse(
            request, "admin/tenants/tenant/restore_confirm.html", context, status=400 if form.errors else 200
        )

    def _plan(self, tenant):
        return tenant.plan_object if hasattr(tenant, "plan_object") else Plan.objects.filter(slug=tenant.plan).first()

    @admin.display(description="Plan", ordering="plan")
    def plan_label(self, tenant):
        plan = self._plan(tenant)
        comped = " (comped)" if getattr(getattr(tenant, "billing", None), "comped", False) else ""
        return (plan.name if plan else tenant.plan) + comped

    @admin.display(description="Subscription")
    def subscription(self, tenant):
        account = getattr(tenant, "billing", None)
        return account.subscription_status if account and account.subscription_status else "-"

    @admin.display(description="Monthly")
    def monthly(self, tenant):
        account = getattr(tenant, "billing", None)
        if not account or account.subscription_status not in ("active", "past_due", "trialing"):
            return "-"
        plan = self._plan(tenant)
        if plan is None:
            return "-"
        amount = plan.yearly_amount / 12 if account.interval == "year" else plan.monthly_amount
        return money(round(amount), plan.currency)

    @admin.display(description="Stripe customer")
    def stripe_customer(self, tenant):
        account = getattr(tenant, "billing", None)
        if not account or not account.stripe_customer_id:
            return "-"
        mode = "" if settings.STRIPE_LIVE_MODE else "test/"
        return format_html(
            '<a href="https://dashboard.stripe.com/{}customers/{}" target="_blank" rel="noopener">{}</a>',
            mode,
            account.stripe_customer_id,
            account.stripe_customer_id,
        )

    @admin.display(description="Trial ends", ordering="trial_ends_at")
    def trial_end(self, tenant):
        return date_format(tenant.trial_ends_at, "j M Y") if tenant.trial_ends_at else "-"

    @admin.display(description="Created", ordering="created_at")
    def created(self, tenant):
        return date_format(tenant.created_at, "j M Y")

    @admin.display(description="Users")
    def users(self, tenant):
        if hasattr(tenant, "user_count"):
            return tenant.user_count
        return selectors.user_count(tenant.schema_name)

    def _each(self, request, queryset, change, done: str):
        actor = request.user.email
        count = 0
        for tenant in queryset:
            try:
                change(tenant=tenant, actor=actor, ip_address=client_ip(request))
            except services.InvalidStateChange as error:
                self.message_user(request, f"{tenant}: {error}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} workspace(s) {done}.", messages.SUCCESS)

    @admin.action(description="Suspend selected workspaces")
    def suspend(self, request, queryset):
        self._each(request, queryset, services.tenant_suspend, "suspended")

    @admin.action(description="Activate selected workspaces")
    def activate(self, request, queryset):
        self._each(request, queryset, services.tenant_activate, "activated")

    @admin.action(description="Comp the chosen plan to selected workspaces (free, never blocked for payment)")
    def comp_plan(self, request, queryset):
        plan = Plan.objects.filter(slug=request.POST.get("plan", "")).first()
        if plan is None:
            self.message_user(request, "Choose the plan to comp.", messages.ERROR)
            return

        def comp(*, tenant, actor, ip_address):
            return billing_services.plan_comp(tenant=tenant, plan=plan, actor=actor, ip_address=ip_address)

        self._each(request, queryset, comp, f"comped the {plan.name} plan")

    @admin.action(description="Lift the comp of selected workspaces (they follow Stripe again)")
    def comp_lift(self, request, queryset):
        self._each(request, queryset, billing_services.plan_comp_lift, "follow Stripe again")

    @admin.action(description="Reopen selected closed workspaces (during their grace period)")
    def reopen(self, request, queryset):
        self._each(request, queryset, services.tenant_reopen, "reopened")

    def _days(self, request) -> int | None:
        try:
            days = TenantActionForm.base_fields["days"].clean(request.POST.get("days"))
        except forms.ValidationError:
            days = None
        if not days:
            self.message_user(request, "Enter a number of days from 1 to 365.", messages.ERROR)
        return days

    @admin.action(description="Extend trial of selected workspaces by the days given")
    def extend_trial(self, request, queryset):
        if days := self._days(request):
            self._each(
                request,
                queryset,
                self._trial_change(services.tenant_extend_trial, days),
                f"given {days} more trial days",
            )

    @admin.action(description="Set trial of selected workspaces to end in the days given")
    def trial_end_set(self, request, queryset):
        if days := self._days(request):
            self._each(
                request,
                queryset,
                self._trial_change(services.tenant_trial_end_set, days),
                f"set to end their trial in {days} day(s)",
            )

    @staticmethod
    def _trial_change(service, days: int):
        """Change the trial end, then check that workspace's reminders at once rather than at the next sweep."""

        def change(**kwargs):
            tenant = service(days=days, **kwargs)
            reminders.reminders_check_soon(tenant=tenant)
            return tenant

        return change


class AuditActionFilter(admin.SimpleListFilter):
    """Actions are registered in code (core/audit.py), not database choices: the filter lists the registry."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return action_choices()

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action_name", "tenant_label", "actor_kind", "actor", "ip_address"]
    list_filter = [AuditActionFilter, "actor_kind", ("tenant", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["tenant_label", "actor", "action"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "tenant",
        "tenant_label",
        "actor_kind",
        "actor",
        "action",
        "details",
        "ip_address",
    ]
    actions = ["export_csv"]

    @admin.display(description="Action", ordering="action")
    def action_name(self, event: AuditEvent) -> str:
        return event.action_label

    @admin.action(description="Export the selected events as CSV")
    def export_csv(self, request, queryset):
        """The operators' CSV of the audit trail (filter the list first, then select all)."""
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        writer = csv.writer(response)
        writer.writerow(["created_at", "workspace", "action", "actor_kind", "actor", "ip_address", "details"])
        for event in queryset.order_by("created_at", "id").iterator():
            writer.writerow(
                [
                    event.created_at.isoformat(),
                    event.tenant_label,
                    event.action,
                    event.actor_kind,
                    csv_cell(event.actor),
                    event.ip_address or "",
                    csv_cell(event.details_json),
                ]
            )
        return response


@admin.register(RestoreRequest)
class RestoreRequestAdmin(ReadOnlyAdmin):
    """Operators' restores, requested on a workspace's page and run by the worker."""

    list_display = ["created_at", "tenant", "backup", "mode", "status", "step", "result", "requested_by", "finished_at"]
    list_filter = ["status"]
    search_fields = ["tenant__subdomain", "as_subdomain", "backup", "requested_by"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    fields = (
        "tenant",
        "backup",
        "mode",
        "requested_by",
        "status",
        "progress",
        "result",
        "restored_workspace",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    change_form_template = "admin/console/restorerequest/change_form.html"
    REFRESH_SECONDS = 2

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """While the restore is queued or running, its page reloads itself to show each step (it has no form
        to lose); once it is done, it stays still."""
        if obj is not None and obj.under_way:
            context["refresh_seconds"] = self.REFRESH_SECONDS
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.display(description="Restored")
    def mode(self, restore: RestoreRequest) -> str:
        return "in place" if restore.in_place else f"as {restore.as_subdomain}"

    @admin.display(description="Progress")
    def step(self, restore: RestoreRequest) -> str:
        return restore.progress.splitlines()[-1] if restore.progress else "-"

    @admin.display(description="Restored workspace")
    def restored_workspace(self, restore: RestoreRequest):
        if restore.restored_tenant_id is None:
            return "-"
        url = reverse("admin:tenants_tenant_change", args=[restore.restored_tenant_id])
        return format_html('<a href="{}">{}</a>', url, restore.as_subdomain or restore.tenant.subdomain)


@admin.register(LaunchCheckRun)
class LaunchCheckRunAdmin(ReadOnlyAdmin):
    """`manage.py launch_check` runs, the newest first: the first row is the last run."""

    list_display = ["ran_at", "environment", "passed", "warned", "failed", "failing_items"]
    list_filter = ["environment"]
    fields = ("ran_at", "environment", "passed", "warned", "failed", "items")
    readonly_fields = fields

    @admin.display(description="Not passing")
    def failing_items(self, run: LaunchCheckRun) -> str:
        return ", ".join(f"{item['name']} ({item['status']})" for item in run.results if item["status"] != "PASS")

    @admin.display(description="Items")
    def items(self, run: LaunchCheckRun) -> str:
        return format_html(
            "<pre style='margin:0; white-space:pre-wrap'>{}</pre>",
            "\n".join(LaunchCheckRun.report_lines(run.results)),
        )
