"""Hosts: public, workspace, unknown, foreign; suspended workspaces."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from core.models import AuditEvent
from tenants import services
from tests.support.clients import host_client, logged_in_client, workspace_client
from tests.support.workspaces import PASSWORD

pytestmark = pytest.mark.django_db


def test_unknown_subdomain_is_404_with_a_link_to_signup():
    response = host_client("nobody-here.localhost").get("/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "There is no workspace here" in body
    assert 'href="http://localhost/signup/"' in body


def test_spare_and_template_schemas_are_not_reachable():
    for host in ("tenant_template.localhost", "ws.localhost", "public.localhost"):
        assert host_client(host).get("/").status_code == 404


@pytest.mark.parametrize("host", ["evil.example.com", "localhost.evil.com", "bad host", "a" * 300])
def test_foreign_host_header_is_400_or_404_never_500(host):
    response = host_client(host).get("/", raise_request_exception=False)
    assert response.status_code in (400, 404)


def test_host_matching_is_case_insensitive(make_workspace):
    make_workspace("alpha", business_name="Alpha Ltd")
    assert "Alpha Ltd" in host_client("ALPHA.LocalHost").get("/login/").content.decode()


def test_suspended_workspace_answers_403_everywhere_and_keeps_its_data(make_workspace, settings):
    a = make_workspace("alpha", business_name="Alpha Ltd")
    client = logged_in_client(a)
    services.tenant_suspend(tenant=a, actor="op@example.com", reason="abuse report")

    for path in ("/", "/login/", "/terms/", "/welcome/?token=x", "/does-not-exist/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "This workspace is suspended" in response.content.decode()
        assert settings.SUPPORT_EMAIL in response.content.decode()
    login = workspace_client(a).post("/login/", {"username": a.owner_email, "password": PASSWORD})
    assert login.status_code == 403

    with schema_context(a.schema_name):
        assert User.objects.filter(email=a.owner_email).exists()
    services.tenant_activate(tenant=a, actor="op@example.com")
    assert client.get("/").status_code == 200  # the old session works again: nothing was deleted
    actions = list(AuditEvent.objects.filter(tenant=a).values_list("action", flat=True))
    assert actions[:2] == ["tenant.activated", "tenant.suspended"]


def test_suspending_one_workspace_leaves_others_alone(make_workspace):
    a = make_workspace("alpha")
    b = make_workspace("bravo")
    services.tenant_suspend(tenant=a, actor="op@example.com")
    assert logged_in_client(b).get("/").status_code == 200


def test_public_pages_render_on_the_public_host(public_client):
    for path in ("/", "/signup/", "/terms/", "/privacy/"):
        assert public_client.get(path).status_code == 200, path


def test_workspace_pages_are_not_on_the_public_host(public_client):
    assert public_client.get("/login/").status_code == 404
    assert public_client.get("/welcome/").status_code == 404
