"""A chunk's messages rendered once per language and template, then filled in: the same text
as rendering each message (notifications/queue_many.py ``_render``)."""

from __future__ import annotations

import pytest
from django.template import Context
from django.template.loader import get_template
from django.utils import translation

from notifications.queue_many import _plain_names, _render

CONTEXTS = [
    {
        "name": "Åsa 100% O'Brien <x> {{ y }}",
        "tenant_name": "Kund & Co %(link)s",
        "link": "https://example.test/c/abc?a=1&b=2",
        "expires": "1 januari 2027",
        "reply_yes": "JA K7QX",
        "reply_no": "NEJ K7QX",
        "text": "hej 50 %",
        "subject_text": "Ämne",
    },
    {"name": "", "tenant_name": "", "link": "", "expires": "", "reply_yes": "", "text": ""},
    {"text": 5, "name": 7},  # not strings: rendered per message
]
TEMPLATES = [
    f"notifications/{name}.{part}.txt"
    for name in ("consent_request", "plain")
    for part in ("sms", "email", "subject")
]


@pytest.mark.parametrize("language", ["sv", "en", "da", "nb"])
@pytest.mark.parametrize("name", TEMPLATES)
def test_filled_in_is_what_rendering_gives(name, language):
    cache: dict = {}
    with translation.override(language):
        for context in CONTEXTS:
            rendered = get_template(name).template.render(Context(context, autoescape=False))
            assert _render(name, context, cache) == rendered


def test_a_template_that_does_more_than_insert_is_rendered_per_message():
    from django.template import engines

    template = engines["django"].from_string("{% if name %}Hej {{ name|upper }}{% endif %}")
    assert _plain_names(template.template) is None
    assert _plain_names(get_template("notifications/consent_request.sms.txt").template) == [
        "tenant_name",
        "link",
        "reply_yes",
        "reply_no",
    ]
