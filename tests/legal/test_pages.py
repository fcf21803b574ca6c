import pytest

from tests.support.clients import host_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path,title,version_setting",
    [("/terms/", "Terms of Service", "TERMS_VERSION"), ("/privacy/", "Privacy Policy", "PRIVACY_VERSION")],
)
def test_legal_pages_on_public_and_workspace_hosts(make_workspace, settings, path, title, version_setting):
    a = make_workspace("alpha")
    settings.TERMS_VERSION = settings.PRIVACY_VERSION = "2026-03-15"
    for host in (settings.BASE_DOMAIN, a.host):
        response = host_client(host).get(path)  # anonymous on purpose: legal pages need no login
        assert response.status_code == 200
        body = response.content.decode()
        assert f"<h1>{title}</h1>" in body
        assert "Version 2026-03-15" in body and "effective 15 March 2026" in body
