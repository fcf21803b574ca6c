from django.contrib.auth.hashers import make_password
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.handoff import handoff_token_make
from accounts.models import User
from billing.plans import PLANS
from config.http import client_ip
from tenants import services
from tenants.forms import SignupForm
from tenants.links import workspace_url


def landing(request):
    return render(request, "tenants/landing.html", {"plans": PLANS})


@require_http_methods(["GET", "POST"])
def signup(request):
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
            token = handoff_token_make(tenant=tenant, email=data["email"])
            path = reverse("accounts:handoff", urlconf="config.urls_tenant")
            return redirect(workspace_url(tenant.subdomain, f"{path}?token={token}"))
    return render(request, "tenants/signup.html", {"form": form}, status=400 if form.errors else 200)
