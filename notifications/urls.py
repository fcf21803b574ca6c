"""anymail's delivery-tracking webhooks (/anymail/<esp>/tracking/ on the public host), answered only when
ANYMAIL_WEBHOOK_SECRET is set: without it anymail would accept anyone's events (it only warns)."""

from functools import wraps

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404
from django.urls import URLPattern


def _secret_required(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            raise Http404("Email tracking is off: ANYMAIL_WEBHOOK_SECRET is not set.")
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    URLPattern(pattern.pattern, _secret_required(pattern.callback), pattern.default_args, pattern.name)
    for pattern in anymail_urls.urlpatterns
]
