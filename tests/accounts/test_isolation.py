"""Nothing crosses from one workspace to another: data, sessions, credentials, admin."""

import pytest
from django.contrib.auth.hashers import make_password
from django_tenants.utils import schema_context

from accounts.models import User
from tests.support.clients import host_client, logged_in_client, workspace_client
from tests.support.workspaces import PASSWORD, users_of

pytestmark = pytest.mark.django_db


def test_users_live_in_their_own_schema(make_workspace):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    b = make_workspace("bravo", owner_email="owner@bravo.test")
    with schema_context(a.schema_name):
        User.objects.create(email="secret.colleague@alpha.test", password=make_password(PASSWORD))
    assert [u.email for u in users_of(a)] == ["owner@alpha.test", "secret.colleague@alpha.test"]
    assert [u.email for u in users_of(b)] == ["owner@bravo.test"]


def test_same_email_may_exist_in_two_workspaces_independently(make_workspace):
    a = make_workspace("alpha", owner_email="same@person.test")
    b = make_workspace("bravo", owner_email="same@person.test", password="another long passphrase")
    assert logged_in_client(a, "same@person.test").get("/").status_code == 200
    assert logged_in_client(b, "same@person.test", "another long passphrase").get("/").status_code == 200
    assert (
        workspace_client(a)
        .post("/login/", {"username": "same@person.test", "password": "another long passphrase"})
        .status_code
        == 200
    )


def test_dashboard_shows_only_its_own_workspace(make_workspace):
    a = make_workspace("alpha", business_name="Alpha Ltd", owner_email="owner@alpha.test")
    make_workspace("bravo", business_name="Bravo Inc", owner_email="owner@bravo.test")
    body = logged_in_client(a).get("/").content.decode()
    assert "Alpha Ltd" in body
    assert "Bravo" not in body and "owner@bravo.test" not in body


def test_credentials_of_a_do_not_log_in_on_b(make_workspace):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    b = make_workspace("bravo", owner_email="owner@bravo.test")
    response = workspace_client(b).post("/login/", {"username": a.owner_email, "password": PASSWORD})
    assert response.status_code == 200
    assert "do not match an account in this workspace" in response.content.decode()


def test_replayed_session_cookie_from_a_does_not_authenticate_on_b(make_workspace, settings):
    a = make_workspace("alpha", owner_email="owner@alpha.test")
    b = make_workspace("bravo", owner_email="owner@bravo.test")
    session_a = logged_in_client(a).cookies[settings.SESSION_COOKIE_NAME].value
    # The worst case: B has a user with the same primary key and even the same password hash as A's
    # owner, so only per-workspace session storage stands between the cookie and B's data.
    owner_a = users_of(a)[0]
    with schema_context(b.schema_name):
        User.objects.create(pk=owner_a.pk, email="twin@bravo.test", password=owner_a.password)

    intruder = workspace_client(b)
    intruder.cookies[settings.SESSION_COOKIE_NAME] = session_a
    response = intruder.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_session_cookie_from_a_workspace_is_not_an_operator_session(make_workspace, settings):
    a = make_workspace("alpha")
    User.objects.create_superuser("op@example.com", PASSWORD)  # public schema, also user #1
    session_a = logged_in_client(a).cookies[settings.SESSION_COOKIE_NAME].value
    public = host_client(settings.BASE_DOMAIN)
    public.cookies[settings.SESSION_COOKIE_NAME] = session_a
    response = public.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_operator_admin_is_404_on_workspace_hosts(make_workspace):
    a = make_workspace("alpha")
    client = logged_in_client(a)
    for path in ("/admin/", "/admin/login/", "/admin/tenants/tenant/"):
        assert client.get(path).status_code == 404


def test_workspace_owner_cannot_log_into_operator_admin(make_workspace, public_client):
    a = make_workspace("alpha")
    response = public_client.post("/admin/login/", {"username": a.owner_email, "password": PASSWORD})
    assert response.status_code == 200
    assert public_client.get("/admin/").status_code == 302


def test_anonymous_visits_to_workspace_pages_go_to_its_login(make_workspace):
    a = make_workspace("alpha", business_name="Alpha Ltd")
    response = workspace_client(a).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"
    login_page = workspace_client(a).get("/login/")
    assert "Log in to Alpha Ltd" in login_page.content.decode()


def test_logout_ends_the_session(make_workspace):
    a = make_workspace("alpha")
    client = logged_in_client(a)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
