"""Security headers on every page: CSP without inline scripts, Permissions-Policy, no-store when logged in."""

import pytest

from tests.support.clients import logged_in_client, workspace_client

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


def test_every_page_has_a_strict_content_security_policy(public_client, make_workspace):
    for response in (public_client.get("/"), workspace_client(make_workspace("acme")).get("/login/")):
        policy = directives(response)
        assert policy["script-src"] == "script-src 'self'"  # no inline script, no foreign script
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert policy["object-src"] == "object-src 'none'"
        assert "https://checkout.stripe.com" in policy["form-action"]
        assert "camera=()" in response["Permissions-Policy"]
        assert response["X-Frame-Options"] == "DENY"


def test_report_only_switch(settings, public_client):
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = None, policy
    response = public_client.get("/")
    assert (
        "Content-Security-Policy" not in response
        and "script-src 'self'" in response["Content-Security-Policy-Report-Only"]
    )


def test_pages_for_a_logged_in_person_and_the_export_are_never_stored(make_workspace):
    acme = make_workspace("acme")
    owner = logged_in_client(acme)
    for path in ("/", "/settings/export/"):
        assert "no-store" in owner.get(path)["Cache-Control"], path
    assert "no-store" not in workspace_client(acme).get("/terms/").get("Cache-Control", "")  # anonymous, public
