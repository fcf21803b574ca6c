"""The error pages render whatever else is broken (templates/error_page.html): called the way Django calls
them (the URLconf's error handlers; 503 from core/errors.py), with PostgreSQL unreachable, the static
files' manifest missing (a release without collectstatic) and on either host's URLconf or one where no
name resolves."""

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.templatetags.static import static
from django.test import RequestFactory
from django.urls import NoReverseMatch, get_resolver, set_urlconf

from core.errors import unavailable

HOME_LINK = '<a href="/">Go to the home page</a>'
EXCEPTIONS = {400: SuspiciousOperation("bad"), 403: PermissionDenied(), 404: Http404()}


def render_error(status: int, urlconf: str):
    request = RequestFactory().get("/somewhere/")
    if status == 503:
        return unavailable(request)
    handler = get_resolver(urlconf).resolve_error_handler(status)
    return handler(request) if status == 500 else handler(request, exception=EXCEPTIONS[status])


@pytest.fixture
def everything_down(database, settings, tmp_path):
    database.down()
    settings.STATIC_ROOT = tmp_path  # no staticfiles.json: {% static %} would raise
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        static("css/portal.css")


@pytest.fixture
def urlconf(request):
    set_urlconf(request.param)  # what Django does once it knows the host (django-tenants' request.urlconf)
    yield request.param
    set_urlconf(None)


@pytest.mark.parametrize("urlconf", ["config.urls_public", "config.urls_tenant"], indirect=True)
@pytest.mark.parametrize("status", [400, 403, 404, 500, 503])
def test_error_pages_render_with_the_database_and_the_manifest_gone(status, urlconf, everything_down):
    response = render_error(status, urlconf)
    assert response.status_code == status
    page = response.content.decode()
    assert '<link rel="stylesheet" href="/static/css/portal.css">' in page
    assert (HOME_LINK in page) == (status != 503)  # the landing page or the workspace's dashboard


@pytest.mark.parametrize("urlconf", ["config.urls_public"], indirect=True)
@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_error_pages_render_when_no_url_can_be_reversed(status, urlconf, everything_down, monkeypatch):
    def no_match(*args, **kwargs):
        raise NoReverseMatch("nothing resolves")

    monkeypatch.setattr("django.urls.reverse", no_match)  # what the {% url %} tag calls
    response = render_error(status, urlconf)
    assert response.status_code == status
    assert "Go to the home page" not in response.content.decode()
