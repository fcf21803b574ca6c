import logging
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import get_usage

from accounts.handoff import handoff_token_make
from accounts.models import User
from accounts.permissions import role_required
from billing.models import Plan
from core.errors import CACHE_UNAVAILABLE_ERRORS
from core.http import client_ip, client_key
from tenants import selectors, services
from tenants.export import tenant_export
from tenants.forms import CloseWorkspaceForm, SignupForm, WorkspaceSettingsForm
from tenants.links import workspace_url

logger = logging.getLogger(__name__)


def landing(request):
    return render(request, "tenants/landing.html", {"plans": Plan.objects.public()})


def _signup_limits(request, *, increment: bool) -> list[dict]:
    """Workspaces created per client (SIGNUP_RATE_PER_IP: one client may not drain the spare pool) and in
    all (SIGNUP_RATE_GLOBAL: a brake on scripted signups). Only created workspaces count: a person who
    mistypes five times is not blocked."""
    limits = [
        ("signup-ip", lambda _group, req: client_key(req), settings.SIGNUP_RATE_PER_IP),
        ("signup-all", lambda _group, _req: "all", settings.SIGNUP_RATE_GLOBAL),
    ]
    return [get_usage(request, group=group, key=key, rate=rate, increment=increment) for group, key, rate in limits]


def _signup_throttled(request) -> bool:
    try:
        return any(usage["count"] >= usage["limit"] for usage in _signup_limits(request, increment=False))
    except CACHE_UNAVAILABLE_ERRORS as error:
        # The shared cache is down: signups go ahead unthrottled rather than not at all (docs/decisions.md).
        logger.warning("signup limits unavailable, not applied: %s", error)
        return False


def _signup_count(request) -> None:
    try:
        _signup_limits(request, increment=True)
    except CACHE_UNAVAILABLE_ERRORS as error:  # the workspace exists: never fail its signup now
        logger.warning("signup limits unavailable, signup not counted: %s", error)


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.method == "POST" and _signup_throttled(request):
        return render(request, "429.html", status=429)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant = services.workspace_signup(
                business_name=data["business_name"],
                subdomain=data["subdomain"],
                owner_email=data["email"],
                owner_name=data["full_name"],
                owner_password_hash=make_password(data["password"]),
                ip_address=client_ip(request),
            )
        except services.SubdomainUnavailable:
            form.add_error("subdomain", "This address is already taken. Please choose another.")
        else:
            _signup_count(request)
            token = handoff_token_make(tenant=tenant, email=data["email"])
            path = reverse("accounts:handoff", urlconf="config.urls_tenant")
            return redirect(workspace_url(tenant.subdomain, f"{path}?token={token}"))
    return render(request, "tenants/signup.html", {"form": form}, status=400 if form.errors else 200)


# Workspace settings, export and closing (on the workspace's own host)


@role_required(User.Role.ADMIN)
def workspace_settings(request):
    tenant = request.tenant
    is_owner = request.user.has_role(User.Role.OWNER)
    initial = {"business_name": tenant.business_name, "billing_email": tenant.billing_email}
    form = WorkspaceSettingsForm(
        request.POST if request.method == "POST" else None, initial=initial, can_edit_billing=is_owner
    )
    if request.method == "POST" and form.is_valid():
        services.tenant_update_settings(
            tenant=tenant,
            actor=request.user.email,
            business_name=form.cleaned_data["business_name"],
            billing_email=form.cleaned_data["billing_email"] if is_owner else tenant.billing_email,
            ip_address=client_ip(request),
        )
        messages.success(request, "Workspace settings saved.")
        return redirect("workspace_settings")
    context = {"form": form, "close_form": CloseWorkspaceForm(subdomain=tenant.subdomain), "is_owner": is_owner}
    return render(request, "tenants/settings.html", context, status=400 if form.errors else 200)


@role_required(User.Role.OWNER)
def workspace_export(request):
    tenant = request.tenant
    archive = tenant_export(tenant=tenant, actor=request.user.email, ip_address=client_ip(request))
    filename = f"{tenant.subdomain}-export-{timezone.now():%Y%m%d-%H%M}.zip"
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(User.Role.OWNER)
@require_POST
def workspace_close(request):
    tenant = request.tenant
    form = CloseWorkspaceForm(request.POST, subdomain=tenant.subdomain)
    if not form.is_valid():
        context = {
            "form": WorkspaceSettingsForm(
                initial={"business_name": tenant.business_name, "billing_email": tenant.billing_email},
                can_edit_billing=True,
            ),
            "close_form": form,
            "is_owner": True,
        }
        return render(request, "tenants/settings.html", context, status=400)
    services.tenant_close(tenant=tenant, actor=request.user.email, ip_address=client_ip(request))
    messages.success(request, "The workspace is closed. You can still export its data until it is deleted.")
    return redirect("accounts:dashboard")


# Caddy's on-demand TLS (deploy/Caddyfile), reached through TlsAskMiddleware on any Host

# A DNS name: dot-separated labels of letters, digits and inner hyphens, 253 characters at most.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*\Z")


@require_safe
def tls_ask(request):
    """200 lets the proxy obtain a certificate for `?domain=<hostname>`; 404 refuses (any non-2xx does)."""
    hostname = request.GET.get("domain", "").strip().lower().removesuffix(".")
    if not _HOSTNAME.match(hostname):
        return HttpResponseBadRequest("domain: a hostname is required\n", content_type="text/plain")
    if not selectors.tls_certificate_allowed(hostname=hostname):
        return HttpResponseNotFound("no certificate for this hostname\n", content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
