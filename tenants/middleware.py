from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from core import logs
from core.db import connection
from core.links import public_url
from tenants import routing, views

TLS_ASK_PATH = "/internal/tls-ask"


class WorkspaceRoutingMiddleware(TenantMainMiddleware):
    """Picks the schema from the Host header (cached: tenants/routing.py); unknown workspaces get a friendly 404."""

    def process_request(self, request):
        response = super().process_request(request)
        logs.bind_request_context(request)  # every log line of the request names its workspace
        return response

    def get_tenant(self, domain_model, hostname):
        tenant = routing.tenant_for_host(hostname)
        if tenant is None:
            raise domain_model.DoesNotExist(hostname)
        return tenant

    @staticmethod
    def hostname_from_request(request):
        return remove_www(request.get_host().split(":")[0].lower())

    def no_tenant_found(self, request, hostname):
        return render(
            request,
            "tenants/unknown_workspace.html",
            {"hostname": hostname, "signup_url": public_url("/signup/")},
            status=404,
        )


class TlsAskMiddleware:
    """Answers Caddy's on-demand TLS question (`/internal/tls-ask?domain=...`, deploy/Caddyfile) before
    anything else, like the health endpoints: Caddy asks over plain HTTP with the ask URL's own Host (an
    internal address, neither a workspace nor in ALLOWED_HOSTS), so routing would answer 400, production's
    HTTPS redirect a 301 (any non-2xx is a no), and the global request limit must never refuse it. The
    public sites of the Caddyfile answer 404 for /internal/ themselves: only the proxy asks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == TLS_ASK_PATH:
            connection.set_schema_to_public()  # the Domain lookup reads the public schema
            return views.tls_ask(request)
        return self.get_response(request)
