"""Static files as production serves them: collected with hashed, compressed names (the release step's
collectstatic) and served by WhiteNoise with far-future cache headers; the unhashed copy stays for the
error pages, which link it without asking the manifest (templates/error_page.html)."""

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.templatetags.static import static
from django.test import RequestFactory
from whitenoise.middleware import WhiteNoiseMiddleware

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return WhiteNoiseMiddleware(get_response=lambda request: HttpResponse(status=404))


def test_hashed_files_are_served_compressed_with_far_future_caching(collected):
    url = static("css/portal.css")
    assert url != "/static/css/portal.css" and url.startswith("/static/css/portal.") and url.endswith(".css")
    response = collected(RequestFactory().get(url, HTTP_ACCEPT_ENCODING="gzip"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response["Content-Encoding"] == "gzip"


def test_the_unhashed_name_still_answers_with_a_short_cache(collected):
    response = collected(RequestFactory().get("/static/css/portal.css"))
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
