"""Caddy's on-demand TLS ask (/internal/tls-ask): a certificate only for the public host and existing
workspaces, answered on any Host (Caddy asks with an internal address), never redirected or rate limited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants import services
from tenants.models import Domain, Tenant
from tests.support.clients import host_client

pytestmark = pytest.mark.django_db

ASK_HOST = "127.0.0.1:8000"  # what Caddy sends: the ask URL's host, not in ALLOWED_HOSTS


def ask(domain: str | None, host: str = ASK_HOST, **kwargs):
    data = {} if domain is None else {"domain": domain}
    return host_client(host).get("/internal/tls-ask", data, **kwargs)


def test_the_public_host_and_a_workspace_get_a_certificate_case_insensitively(make_workspace):
    make_workspace("alpha")
    for domain in ("localhost", "LocalHost", "alpha.localhost", "ALPHA.LOCALHOST", "alpha.localhost."):
        response = ask(domain)
        assert (response.status_code, response.content) == (200, b"ok\n"), domain


def test_unknown_names_spares_and_the_template_get_none(make_workspace):
    make_workspace("alpha")
    # Spares and the template have no Domain rows; were one to point at them, still no certificate.
    Domain.objects.create(domain="spare.localhost", tenant=Tenant.objects.spares().first())
    Domain.objects.create(domain="template.localhost", tenant=Tenant.objects.get(kind=Tenant.Kind.TEMPLATE))
    names = [
        "nobody.localhost",
        "spare.localhost",
        "template.localhost",
        "public.localhost",
        "alpha.localhost.evil.com",
        "evil.com",
        "www.alpha.localhost",
    ]
    for domain in names:
        assert ask(domain).status_code == 404, domain


def test_suspended_and_closed_workspaces_keep_their_certificate_until_purged(make_workspace, settings):
    alpha, beta = make_workspace("alpha"), make_workspace("beta")
    services.tenant_suspend(tenant=alpha, actor="op@example.com", reason="abuse")
    services.tenant_close(tenant=beta, actor=beta.owner_email)
    assert ask("alpha.localhost").status_code == 200  # its "suspended" page is served over HTTPS
    assert ask("beta.localhost").status_code == 200  # its "closed" page too, until the purge
    due = timezone.now() - timedelta(days=settings.DELETION_GRACE_DAYS + 1)
    Tenant.objects.filter(pk=beta.pk).update(closed_at=due)
    services.tenant_purge(tenant=Tenant.objects.get(pk=beta.pk))
    assert ask("beta.localhost").status_code == 404


GARBAGE = [None, "", "   ", "bad host", "a" * 300, "../etc", "alpha.localhost:443", "-x.localhost", "a..localhost"]


@pytest.mark.parametrize("domain", GARBAGE)
def test_garbage_is_400(domain):
    assert ask(domain).status_code == 400


def test_only_get_and_head():
    assert host_client(ASK_HOST).post("/internal/tls-ask?domain=localhost").status_code == 405
    assert host_client(ASK_HOST).head("/internal/tls-ask?domain=localhost").status_code == 200


def test_answered_on_the_public_host_and_any_other_host_too(make_workspace):
    make_workspace("alpha")
    for host in ("localhost", "alpha.localhost", "[::1]:2019", "caddy.internal"):
        assert ask("alpha.localhost", host=host).status_code == 200, host


@pytest.mark.usefixtures("clock_still")
def test_never_redirected_to_https_nor_rate_limited(make_workspace, settings):
    make_workspace("alpha")
    settings.SECURE_SSL_REDIRECT = True
    settings.RATE_LIMIT_GLOBAL = "3/m"
    assert [ask("alpha.localhost").status_code for _ in range(10)] == [200] * 10
    pages = [host_client("localhost").get("/terms/", secure=True).status_code for _ in range(4)]
    assert pages == [200, 200, 200, 429]  # the limit is on for everything else
    assert host_client("localhost").get("/terms/").status_code == 301


def test_a_warm_ask_costs_no_query(make_workspace, django_assert_num_queries):
    make_workspace("alpha")
    ask("alpha.localhost")
    ask("nobody.localhost")
    with django_assert_num_queries(0):
        assert ask("alpha.localhost").status_code == 200
        assert ask("nobody.localhost").status_code == 404
        assert ask("localhost").status_code == 200
