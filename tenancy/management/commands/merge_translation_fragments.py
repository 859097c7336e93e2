"""Fold locale/fragments/<work>.<lang>.po into the committed catalogues (see its README)."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

LANGUAGES = ("sv", "da", "nb")
IGNORED = [".venv/*", "var/*", "node_modules/*"]


def _key(entry: polib.POEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


class Command(BaseCommand):
    help = "Run makemessages, fill empty entries from locale/fragments/ and delete the fragments."

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep", action="store_true", help="Keep the fragment files after merging."
        )
        parser.add_argument(
            "--no-makemessages", action="store_true", help="Only fill, do not extract first."
        )

    def handle(self, *args, keep=False, no_makemessages=False, **options):
        locale_dir = Path(settings.LOCALE_PATHS[0])
        fragments_dir = locale_dir / "fragments"
        if not no_makemessages:
            call_command(
                "makemessages", locale=list(LANGUAGES), no_obsolete=True, ignore_patterns=IGNORED
            )
        used: list[Path] = []
        for language in LANGUAGES:
            catalogue_path = locale_dir / language / "LC_MESSAGES" / "django.po"
            catalogue = polib.pofile(str(catalogue_path), wrapwidth=79)
            wanted = {_key(e): e for e in catalogue if not e.obsolete}
            filled = conflicts = 0
            for fragment_path in sorted(fragments_dir.glob(f"*.{language}.po")):
                used.append(fragment_path)
                for entry in polib.pofile(str(fragment_path)):
                    target = wanted.get(_key(entry))
                    if target is None or not (entry.msgstr or entry.msgstr_plural):
                        continue
                    if target.translated():  # a fuzzy guess of makemessages' gives way
                        if (target.msgstr, target.msgstr_plural) != (
                            entry.msgstr,
                            entry.msgstr_plural,
                        ):
                            conflicts += 1
                            self.stderr.write(
                                f"{language}: kept the catalogue's text for {entry.msgid!r}"
                            )
                        continue
                    target.msgstr = entry.msgstr
                    if entry.msgstr_plural:
                        target.msgstr_plural = dict(entry.msgstr_plural)
                    if "fuzzy" in target.flags:
                        target.flags.remove("fuzzy")
                    filled += 1
            catalogue.save()
            missing = [e.msgid for e in catalogue if not e.obsolete and not e.translated()]
            self.stdout.write(
                f"{language}: filled {filled}, conflicts {conflicts}, untranslated {len(missing)}"
            )
            for msgid in missing:
                self.stdout.write(f"  untranslated: {msgid!r}")
        if not keep:
            for path in used:
                path.unlink()
        if not used and not fragments_dir.exists():
            raise CommandError(f"No fragments directory at {fragments_dir}.")
