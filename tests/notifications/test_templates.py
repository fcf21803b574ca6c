"""Every email's subject, text and HTML: user-supplied text arrives as typed in subject and text (no HTML
escaping) and escaped in HTML; every email uses the branded layout."""

import pytest
from django.utils.html import escape

from notifications import registry
from notifications.render import email_render
from tests.support.queue import outbox

pytestmark = pytest.mark.django_db

NASTY = 'Tom & Jerry\'s <b>"Diner"</b>'


def nasty_context(kind) -> dict:
    context = kind.sample()
    tenant = context["tenant"]
    tenant.business_name = tenant.owner_name = NASTY
    for key in ("inviter_name",):
        if key in context:
            context[key] = NASTY
    if "user" in context:
        context["user"].full_name = NASTY
    return context


@pytest.mark.parametrize("kind", registry.kinds(), ids=lambda kind: kind.name)
def test_user_text_is_verbatim_in_subject_and_text_and_escaped_in_html(kind):
    rendered = email_render(kind.name, nasty_context(kind))
    assert NASTY in rendered.text
    for part in (rendered.subject, rendered.text):
        assert "&amp;" not in part and "&lt;" not in part and "&#x27;" not in part and "&quot;" not in part
    if "{{ tenant.business_name }}" in open(f"templates/emails/{kind.name}_subject.txt").read():
        assert NASTY in rendered.subject
    assert escape(NASTY) in rendered.html and NASTY not in rendered.html
    assert "<table" in rendered.html and "The Portal team" in rendered.html  # the layout
    assert rendered.text.rstrip().endswith("support@example.com.")


def test_a_real_signup_with_such_a_name_gets_a_clean_welcome(public_client):
    response = public_client.post(
        "/signup/",
        {
            "business_name": NASTY,
            "subdomain": "diner",
            "full_name": NASTY,
            "email": "tom@diner.test",
            "password": "correct horse battery staple",
            "accept_terms": "on",
        },
    )
    assert response.status_code == 302
    (welcome,) = outbox()
    assert welcome.subject == f"Welcome to Portal: {NASTY} is ready"
    assert f"Hello {NASTY}," in welcome.body
    assert escape(NASTY) in welcome.alternatives[0][0]
