"""Templates build links with {% url %} (or {% static %}), links to the other host from core/links.py
values, and amounts with the `money` filter: no hand-written path, no path glued to a URL from the context,
no currency symbol."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.clients import host_client, workspace_client

ROOT = Path(settings.BASE_DIR)
APPS = ["accounts", "billing", "config", "core", "legal", "notifications", "tenants"]

LINK = r"""\b(?:href|action|src|formaction)=["']"""
HAND_BUILT = [
    ("a hand-written path", re.compile(LINK + "/")),
    ("a path glued to a URL from the context", re.compile(LINK + r"""\{\{[^}]*\}\}[^"'#?]""")),
    ("a hand-written static path", re.compile(r"/static/")),
    ("a currency symbol", re.compile(r"[$€£¥]\s*(?:\{\{|\{%|\d)")),
]
PYTHON_CURRENCY = re.compile(r"[$€£¥]\{")  # f"${amount}": amounts go through billing.models.money


def templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.txt"))
    for app in APPS:
        found += sorted((ROOT / app / "templates").rglob("*.html"))
    return found


def problems_in(text: str) -> list[str]:
    return [f"{what}: {match.group(0)!r}" for what, pattern in HAND_BUILT for match in pattern.finditer(text)]


@pytest.mark.parametrize(
    "bad",
    [
        '<a href="/terms/">',
        "<form action='/logout/'>",
        '<a href="{{ public_home_url }}signup/">',
        '<link href="/static/css/portal.css">',
        "<strong>${{ plan.monthly_price }}</strong>",
        "or $190 / year",
    ],
)
def test_the_check_sees_hand_built_links_and_amounts(bad):
    assert problems_in(bad)


@pytest.mark.parametrize(
    "good",
    [
        "<a href=\"{% url 'legal:terms' %}\">",
        '<a href="{{ public_home_url }}#plans">',
        '<a href="{{ url }}">',
        '<a href="mailto:{{ SUPPORT_EMAIL }}">',
        '<link href="{% get_static_prefix %}css/portal.css">',
    ],
)
def test_the_check_lets_built_links_through(good):
    assert not problems_in(good)


def test_no_template_builds_a_link_or_an_amount_by_hand():
    assert len(templates()) > 50
    found = [f"{path.relative_to(ROOT)}: {what}" for path in templates() for what in problems_in(path.read_text())]
    assert found == []


def test_no_python_code_formats_an_amount_with_a_symbol():
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if PYTHON_CURRENCY.search(line)
    ]
    assert found == []


@pytest.mark.django_db
def test_the_layout_links_to_the_pages_of_the_host_that_serves_them(make_workspace, public_client):
    landing = public_client.get("/").content.decode()
    for public_page in ("http://localhost/", "http://localhost/signup/", "http://localhost/terms/"):
        assert f'href="{public_page}"' in landing
    # An unknown subdomain serves no page of its own: its links go to the public host.
    unknown = host_client("nobody-here.localhost").get("/").content.decode()
    assert 'href="http://localhost/privacy/"' in unknown and 'href="/privacy/"' not in unknown
    workspace = workspace_client(make_workspace("acme")).get("/login/").content.decode()
    assert 'class="brand" href="/"' in workspace and 'href="/terms/"' in workspace
