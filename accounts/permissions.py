from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.models import User


def role_required(role: str):
    """The view needs a logged-in user with at least `role` (member < admin < owner); others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(role):
                needed = "an owner" if role == User.Role.OWNER else "an admin or an owner"
                return render(request, "accounts/forbidden.html", {"needed": needed}, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
