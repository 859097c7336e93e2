"""The Swedish, Danish and Norwegian texts of the history work (issue 14, item 10) before
the lead merges its fragments (locale/fragments/history.*.po) into the catalogues: a
test that reads a sentence in Swedish compiles the catalogue plus the fragment into a
temporary locale directory. Once merged (the fragment deleted), the catalogue alone."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings

LANGUAGES = ("sv", "da", "nb")


def compile_with_fragments(target: Path) -> Path:
    base = Path(django_settings.BASE_DIR) / "locale"
    for lang in LANGUAGES:
        catalogue = polib.pofile(str(base / lang / "LC_MESSAGES" / "django.po"))
        fragment = base / "fragments" / f"history.{lang}.po"
        if fragment.exists():
            known = {(e.msgctxt, e.msgid): e for e in catalogue}
            for entry in polib.pofile(str(fragment)):
                found = known.get((entry.msgctxt, entry.msgid))
                if found is None:
                    catalogue.append(entry)
                elif not (found.msgstr or any(found.msgstr_plural.values())):
                    found.msgstr, found.msgstr_plural = entry.msgstr, entry.msgstr_plural
                    found.flags = [f for f in found.flags if f != "fuzzy"]
        out = target / lang / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        catalogue.save_as_mofile(str(out / "django.mo"))
    return target


@pytest.fixture
def history_translations(settings, tmp_path):
    settings.LOCALE_PATHS = [compile_with_fragments(tmp_path / "locale")]
    yield
