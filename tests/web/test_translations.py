"""Every string is translated into Swedish, Danish and Norwegian Bokmål, and the UI uses them."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

LANGUAGES = ["sv", "da", "nb"]
# A python-format placeholder: %(name)s, %s, %d, ... (not "%%").
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
SKIPPED_WHEN_EXTRACTING = {"locale", ".venv", "var", "node_modules", ".git", "build", ".ruff_cache"}
LOG_OUT = {"en": "Log out", "sv": "Logga ut", "da": "Log ud", "nb": "Logg ut"}


def _po_path(language: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"


@pytest.fixture(params=LANGUAGES)
def po(request) -> polib.POFile:
    path = _po_path(request.param)
    assert path.exists(), f"{path} is missing: run `make messages`"
    return polib.pofile(str(path))


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    assert len(po) > 50
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []


def test_placeholders_survive_translation(po):
    wrong = []
    for entry in po.translated_entries():
        if "python-format" not in entry.flags:
            continue
        if entry.msgid_plural:
            # The singular form may say "one" instead of %(count)d; the plural may not.
            wanted = set(_placeholders(entry.msgid_plural))
            for n, text in entry.msgstr_plural.items():
                found = set(_placeholders(text))
                if not found <= wanted or (int(n) > 0 and found != wanted):
                    wrong.append((entry.msgid, text))
        elif _placeholders(entry.msgstr) != _placeholders(entry.msgid):
            wrong.append((entry.msgid, entry.msgstr))
    assert wrong == []


def _words(text: str) -> list[str]:
    """The words of a message, its placeholders ("%(name)s", "{actor}") left out."""
    text = re.sub(r"\{\w+\}", " ", PLACEHOLDER.sub(" ", text))
    return [w for w in text.split() if any(c.isalpha() for c in w)]


def test_no_translation_is_a_copy_of_the_english(po):
    # Short ones may be the same ("Status", Danish "Send link"); a copied sentence is a miss.
    # A pattern of placeholders only ("{actor}: {what}, {customer}.") has nothing to translate.
    same = [
        e.msgid for e in po.translated_entries() if e.msgstr == e.msgid and len(_words(e.msgid)) > 2
    ]
    assert same == []


def test_compiled_catalogues_are_current(po):
    mo_path = Path(po.fpath).with_suffix(".mo")
    assert mo_path.exists(), "run `manage.py compile_translations`"
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(mo_path)) if e.msgid}
    source = {(e.msgctxt, e.msgid): e.msgstr for e in po.translated_entries() if not e.msgid_plural}
    assert {k: v for k, v in compiled.items() if k in source} == source, (
        "stale .mo: run `manage.py compile_translations`"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_are_rendered_in_the_chosen_language(personas, language):
    client = personas.client(personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get("/").content.decode()
    assert f'<html lang="{language}">' in html
    assert LOG_OUT[language] in html
    assert LOG_OUT["en"] not in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_browser_language_picks_the_login_page_language(db, language):
    html = Client(HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5").get("/accounts/login/").content
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/").content
    assert f'<html lang="{language}">'.encode() in html
    heading = re.compile(rb"<h1>(.*?)</h1>")
    assert heading.search(html).group(1) != heading.search(english).group(1) == b"Log in"


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [("bob", "/settings/registers/", 403), ("alice", "/settings/registers/nonsense/", 404)],
)
def test_error_pages_are_full_pages_in_the_users_language(personas, who, url, status):
    client = personas.client(getattr(personas, who))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    response = client.get(url)
    assert response.status_code == status
    html = response.content.decode()
    assert '<html lang="sv">' in html
    assert "Logga ut" in html  # the site's layout, not Django's bare page


def test_server_error_page_is_translated():
    english = render_to_string("500.html")
    with translation.override("da"):
        danish = render_to_string("500.html")
    assert '<html lang="da">' in danish
    assert _heading(danish) != _heading(english)


def _heading(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html).group(1)


def test_the_catalogues_hold_every_string_of_the_source(tmp_path, settings, monkeypatch):
    """A string added in code but never extracted would stay English in every language.

    makemessages writes into the ``locale/`` beside the files it reads, and leaves
    temporary ``*.html.py`` files beside templates, so it runs on a scratch copy.
    """
    import shutil

    from django.core.management import call_command

    root = Path(settings.BASE_DIR)
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(_po_path("sv")))}
    skipped = shutil.ignore_patterns("*.mo", "fragments", "__pycache__", "*.pyc")
    for child in root.iterdir():
        if child.name in SKIPPED_WHEN_EXTRACTING or child.name.endswith(".egg-info"):
            continue
        if child.is_dir():
            shutil.copytree(child, tmp_path / child.name, ignore=skipped)
        else:
            shutil.copy2(child, tmp_path / child.name)
    shutil.copytree(root / "locale", tmp_path / "locale", ignore=skipped)
    monkeypatch.chdir(tmp_path)
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]
    call_command("makemessages", locale=["sv"], no_obsolete=True, verbosity=0)
    fresh = polib.pofile(str(tmp_path / "locale/sv/LC_MESSAGES/django.po"))
    missing = sorted(e.msgid for e in fresh if (e.msgctxt, e.msgid) not in committed)
    assert missing == [], "run `make messages`"
