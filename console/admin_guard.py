"""The operators' admin: its login throttled like the workspaces' (failed attempts per client and per
account), and optionally reachable only from ADMIN_ALLOWED_IPS (elsewhere /admin/ and the operators' enrolment pages
are a 404)."""

from functools import wraps

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from accounts.throttle import attempt_count, attempt_in_flight, is_throttled
from core.http import client_address, in_networks


def throttled_login(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        email = request.POST.get("username", "")
        if is_throttled(request, email=email, group="admin-login"):
            return render(request, "429.html", status=429)
        with attempt_in_flight(request, email=email, group="admin-login"):
            response = view(request, *args, **kwargs)
        if not request.user.is_authenticated:  # the login failed
            attempt_count(request, email=email, group="admin-login")
        return response

    return wrapped


class AdminAllowedIpsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        allowed = settings.ADMIN_ALLOWED_IPS
        if allowed and request.path.startswith(("/admin/", "/operators/")):
            if not in_networks(client_address(request), allowed):
                raise Http404("Not found.")
        return self.get_response(request)
