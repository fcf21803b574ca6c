"""Headers every response gets besides Django's and django-csp's: a Permissions-Policy (no camera,
microphone, location or payment APIs for any page), and `Cache-Control: no-store` on everything a
logged-in person sees (a shared or back-button cache must not keep a workspace's pages or its export)."""

from django.conf import settings
from django.utils.cache import add_never_cache_headers


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, " + response["Cache-Control"]
        return response
