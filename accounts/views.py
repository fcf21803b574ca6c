from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from accounts.forms import EmailAuthenticationForm
from accounts.handoff import handoff_email_hint, handoff_user
from accounts.models import User
from billing.plans import plan_name
from tenants.links import workspace_url


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_initial(self):
        return {"username": self.request.GET.get("email", "")}


class LogoutView(auth_views.LogoutView):
    pass


def handoff(request):
    """Land the new owner, logged in, on their workspace straight after signup."""
    token = request.GET.get("token", "")
    with transaction.atomic():
        user = handoff_user(token)
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("accounts:dashboard")
    email = handoff_email_hint(token)
    login_url = reverse("accounts:login")
    return redirect(f"{login_url}?{urlencode({'email': email})}" if email else login_url)


@login_required
def dashboard(request):
    tenant = request.tenant
    owner = User.objects.filter(role=User.Role.OWNER, is_active=True).order_by("date_joined").first()
    return render(
        request,
        "accounts/dashboard.html",
        {
            "tenant": tenant,
            "owner": owner,
            "plan_name": plan_name(tenant.plan),
            "workspace_home": workspace_url(tenant.subdomain, "/"),
        },
    )
