"""Workspaces and their people in tests: the one password they all share, the signup form, members added
straight into a workspace's schema, and the users it holds."""

from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.models import Tenant

PASSWORD = "correct horse battery staple"


def signup_data(**overrides) -> dict:
    """The public signup form, filled in for Acme Bakery; an override of None leaves the field out."""
    data = {
        "business_name": "Acme Bakery",
        "subdomain": "acme",
        "full_name": "Ada Baker",
        "email": "ada@acme.test",
        "password": PASSWORD,
        "accept_terms": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def add_member(tenant: Tenant, email: str, role: str = "member", password: str = PASSWORD, **fields):
    with schema_context(tenant.schema_name):
        user = User.objects.create_user(
            email, password, role=role, full_name=fields.pop("full_name", email.split("@")[0]), **fields
        )
    connection.set_schema_to_public()
    return user


def users_of(tenant: Tenant):
    with schema_context(tenant.schema_name):
        return list(User.objects.order_by("pk"))
