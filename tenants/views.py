import re

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.views.decorators.http import require_safe

from tenants import selectors

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
