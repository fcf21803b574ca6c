import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import get_usage

from accounts import services
from accounts import signup as signups
from accounts.export import tenant_export
from accounts.forms import (
    AcceptInvitationForm,
    CloseWorkspaceForm,
    EmailAuthenticationForm,
    EmailChangeForm,
    InvitationForm,
    ProfileForm,
    RoleForm,
    SignupForm,
    WorkspacePasswordResetForm,
    WorkspaceSettingsForm,
)
from accounts.handoff import handoff_email_hint, handoff_token_make, handoff_user
from accounts.models import Invitation, User
from accounts.permissions import role_required
from accounts.throttle import attempt_count, attempt_in_flight, attempt_throttled, is_throttled
from accounts.tokens import password_reset_token
from billing.selectors import plan_name
from core.audit import ActorKind
from core.errors import CACHE_UNAVAILABLE_ERRORS
from core.http import client_ip, client_key
from core.links import workspace_url
from tenants import services as tenant_services

logger = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def throttled(request):
    return render(request, "429.html", status=429)


# Logging in and out


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_initial(self):
        return {"username": self.request.GET.get("email", "")}

    def post(self, request, *args, **kwargs):
        email = request.POST.get("username", "")
        if is_throttled(request, email=email, group="login"):
            return throttled(request)
        with attempt_in_flight(request, email=email, group="login"):
            response = super().post(request, *args, **kwargs)
        if not request.user.is_authenticated:
            attempt_count(request, email=email, group="login")
        return response


class LogoutView(auth_views.LogoutView):
    pass


@require_http_methods(["GET", "POST"])
def handoff(request):
    """Straight after signup, the new owner lands here with the hand-off token and clicks to enter their
    workspace. The GET only shows the button: logging in takes a POST with this host's CSRF token, so a
    link cannot log a visitor into someone else's workspace (login CSRF)."""
    token = request.POST.get("token", "") if request.method == "POST" else request.GET.get("token", "")
    with transaction.atomic():
        user = handoff_user(token)
        if user is not None and request.method == "POST":
            login(request, user, backend=MODEL_BACKEND)
            return redirect("accounts:dashboard")
    if user is not None:
        return render(request, "accounts/handoff.html", {"token": token, "email": user.email, "tenant": request.tenant})
    email = handoff_email_hint(token)
    login_url = reverse("accounts:login")
    return redirect(f"{login_url}?{urlencode({'email': email})}" if email else login_url)


@login_required
def dashboard(request):
    tenant = request.tenant
    return render(
        request,
        "accounts/dashboard.html",
        {
            "tenant": tenant,
            "plan_name": plan_name(tenant.plan),
            "workspace_home": workspace_url(tenant.subdomain, "/"),
        },
    )


# Password reset, scoped to the workspace and throttled like login


class PasswordResetView(auth_views.PasswordResetView):
    form_class = WorkspacePasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        if attempt_throttled(request, email=request.POST.get("email", ""), group="reset"):
            return throttled(request)
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    token_generator = password_reset_token
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_reset_completed(user=form.user, ip_address=client_ip(self.request))
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# Own account


@login_required
def account(request):
    profile = ProfileForm(
        request.POST if "save_profile" in request.POST else None, initial={"full_name": request.user.full_name}
    )
    if profile.is_valid():
        services.profile_update(
            user=request.user, full_name=profile.cleaned_data["full_name"], ip_address=client_ip(request)
        )
        messages.success(request, "Your name was saved.")
        return redirect("accounts:account")
    return render(request, "accounts/account.html", {"profile_form": profile}, status=400 if profile.errors else 200)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user, ip_address=client_ip(self.request))
        messages.success(self.request, "Your password was changed. Your other sessions have been logged out.")
        return response


@login_required
def email_change(request):
    form = EmailChangeForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.email_change_request(user=request.user, new_email=form.cleaned_data["new_email"])
        except services.TeamError as error:
            form.add_error("new_email", str(error))
        else:
            messages.success(request, f"We sent a confirmation link to {form.cleaned_data['new_email']}.")
            return redirect("accounts:account")
    return render(request, "accounts/email_change.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def email_change_confirm(request, token):
    """The link shows what will change; the change takes a POST (a link that changes state on GET would
    be followed by mail scanners and could be planted by an attacker)."""
    try:
        if request.method == "GET":
            user, change = services.email_change_check(token=token)
            context = {"old": change.old_email, "new": change.new_email}
            return render(request, "accounts/email_change_confirm.html", context)
        user = services.email_change_confirm(token=token, ip_address=client_ip(request))
    except services.TeamError as error:
        return render(request, "accounts/link_invalid.html", {"message": str(error)}, status=400)
    messages.success(request, f"Your email is now {user.email}.")
    return redirect("accounts:account" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def sessions_end_others(request):
    services.sessions_end_others(request=request, user=request.user)
    messages.success(request, "Your other sessions have been logged out.")
    return redirect("accounts:account")


# Team


@role_required(User.Role.ADMIN)
def team(request):
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                inviter=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                ip_address=client_ip(request),
            )
        except services.TeamError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("accounts:team")
    context = {
        "form": form,
        "members": User.objects.order_by("-is_active", "email"),
        "invitations": [i for i in Invitation.objects.filter(accepted_at=None, revoked_at=None)],
        "roles": User.Role.choices,
    }
    return render(request, "accounts/team.html", context, status=400 if form.errors else 200)


def _team_action(request, change, success: str):
    try:
        change()
    except services.TeamPermissionDenied:
        return render(request, "accounts/forbidden.html", {"needed": "an owner"}, status=403)
    except services.TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect("accounts:team")


def _team_post(model, change, success: str, role: str = User.Role.ADMIN):
    """A POST-only Team button: find the row, call the service as the current user, say what happened.
    `success` is formatted with the row's email."""

    @role_required(role)
    @require_POST
    def view(request, pk):
        target = get_object_or_404(model, pk=pk)
        key = "invitation" if model is Invitation else "member"
        return _team_action(
            request,
            lambda: change(actor=request.user, **{key: target}, ip_address=client_ip(request)),
            success.format(email=target.email),
        )

    return view


invitation_resend = _team_post(Invitation, services.invitation_resend, "Invitation to {email} sent again.")
invitation_revoke = _team_post(Invitation, services.invitation_revoke, "Invitation to {email} revoked.")
member_deactivate = _team_post(User, services.member_deactivate, "{email} was deactivated and logged out.")
member_reactivate = _team_post(User, services.member_reactivate, "{email} can log in again.")
ownership_transfer = _team_post(
    User, services.ownership_transfer, "{email} now owns this workspace; you are an admin.", role=User.Role.OWNER
)


@role_required(User.Role.ADMIN)
@require_POST
def member_role(request, pk):
    member = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return redirect("accounts:team")
    role = form.cleaned_data["role"]
    return _team_action(
        request,
        lambda: services.member_change_role(
            actor=request.user, member=member, role=role, ip_address=client_ip(request)
        ),
        f"{member.email} is now {User.Role(role).label.lower()}.",
    )


# Accepting an invitation (anonymous)


def invitation_accept(request, token):
    invitation = services.invitation_for_token(token)
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        status = invitation.status if invitation else "invalid"
        return render(
            request, "accounts/invitation_unusable.html", {"status": status}, status=404 if status == "invalid" else 410
        )
    form = AcceptInvitationForm(request.POST if request.method == "POST" else None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                ip_address=client_ip(request),
            )
        except services.InvitationUnusable as error:
            return render(request, "accounts/invitation_unusable.html", {"status": error.status}, status=410)
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, f"Welcome to {request.tenant.business_name}!")
        return redirect("accounts:dashboard")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if form.errors else 200,
    )


# Signup (on the public host): a new workspace and its owner (accounts/signup.py)


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
            tenant = signups.workspace_signup(
                business_name=data["business_name"],
                subdomain=data["subdomain"],
                owner_email=data["email"],
                owner_name=data["full_name"],
                owner_password_hash=make_password(data["password"]),
                ip_address=client_ip(request),
            )
        except tenant_services.SubdomainUnavailable:
            form.add_error("subdomain", "This address is already taken. Please choose another.")
        else:
            _signup_count(request)
            token = handoff_token_make(tenant=tenant, email=data["email"])
            path = reverse("accounts:handoff", urlconf="config.urls_tenant")
            return redirect(workspace_url(tenant.workspace_subdomain, f"{path}?token={token}"))
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


# The workspace's settings, export and closing (on its own host, for its admins and owner)


@role_required(User.Role.ADMIN)
def workspace_settings(request):
    tenant = request.tenant
    is_owner = request.user.has_role(User.Role.OWNER)
    initial = {"business_name": tenant.business_name, "billing_email": tenant.billing_email}
    form = WorkspaceSettingsForm(
        request.POST if request.method == "POST" else None, initial=initial, can_edit_billing=is_owner
    )
    if request.method == "POST" and form.is_valid():
        tenant_services.tenant_update_settings(
            tenant=tenant,
            actor=request.user.email,
            actor_kind=services.actor_kind_of(request.user),
            business_name=form.cleaned_data["business_name"],
            billing_email=form.cleaned_data["billing_email"] if is_owner else tenant.billing_email,
            ip_address=client_ip(request),
        )
        messages.success(request, "Workspace settings saved.")
        return redirect("workspace_settings")
    context = {"form": form, "close_form": CloseWorkspaceForm(subdomain=tenant.subdomain), "is_owner": is_owner}
    return render(request, "accounts/workspace_settings.html", context, status=400 if form.errors else 200)


@role_required(User.Role.OWNER)
def workspace_export(request):
    tenant = request.tenant
    archive = tenant_export(
        tenant=tenant, actor=request.user.email, actor_kind=ActorKind.OWNER, ip_address=client_ip(request)
    )
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
        return render(request, "accounts/workspace_settings.html", context, status=400)
    tenant_services.tenant_close(tenant=tenant, actor=request.user.email, ip_address=client_ip(request))
    messages.success(request, "The workspace is closed. You can still export its data until it is deleted.")
    return redirect("accounts:dashboard")
