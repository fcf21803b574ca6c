"""Django test clients on a host: the public site's, a workspace's, and a workspace's with its owner (or
another member) logged in through the login form."""

from django.test import Client

from tenants.models import Tenant
from tests.support.workspaces import PASSWORD


def host_client(host: str, **kwargs) -> Client:
    return Client(HTTP_HOST=host, **kwargs)


def workspace_client(tenant: Tenant) -> Client:
    return host_client(tenant.host)


def logged_in_client(tenant: Tenant, email: str | None = None, password: str = PASSWORD) -> Client:
    client = workspace_client(tenant)
    response = client.post("/login/", {"username": email or tenant.owner_email, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client
