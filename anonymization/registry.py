"""The PII registry: for every model field, is it personal data, and how is it scrubbed.

Each app declares its models in its own ``pii.py``::

    from anonymization.registry import NAME, pii, personal, NOT_PERSONAL, Scrub

    pii.register(Customer, name=personal(Scrub.REPLACE, "Anonymized", category=NAME), ...)
    pii.reach(Address, "customer")            # how its rows reach the data subject

This module is a floor: it imports no domain app, and it is the only part of
``anonymization/`` that lower apps may import. The erasure engine
(``anonymization.engine``) walks the registry and never names an app;
``unclassified_fields()`` is what the test suite uses to fail when a field is added
without a classification.

How rows reach the data subject (``reach``):

- the subject itself (``pii.subject(Customer, ...)``): the rows being erased;
- ``pii.reach(Model, "customer")``: a lookup path from the model to the subject's
  primary key (``"customer"``, ``"request__customer"``);
- ``shared=True``: the path is a many-to-many field and a row may belong to several
  subjects (a contact person): it is erased only when every subject it belongs to is
  erased (or it has none left); otherwise only its links to the erased subjects go;
- ``parent=Model``: the path leads to a row of another registered model, and the row
  is erased when that one is (a contact's keys follow the contact).
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scrub(enum.StrEnum):
    KEEP = "keep"  # not personal: left as it is
    BLANK = "blank"  # set to "" (or the field's empty value)
    NULL = "null"  # set to NULL
    REPLACE = "replace"  # set to a fixed value, or callable(language) -> value/expression
    DELETE_FILE = "delete_file"  # remove the stored file (after commit), then blank the field
    DELETE_ROW = "delete_row"  # the row itself is personal data: delete it
    CUSTOM = "custom"  # the model's ``after`` hook (see ``reach``) recomputes it


# The kinds of data an erasure run can select (all by default). Every personal field of a
# model that reaches the data subject belongs to exactly one.
NAME = "name"
ADDRESSES = "addresses"
PHONE_EMAIL = "phone_email"
IDENTITY = "identity"
CONTACTS = "contacts"
NOTES_FILES = "notes_files"
SALES = "sales_snapshots"

CATEGORY_LABELS = {
    NAME: _("Name"),
    ADDRESSES: _("Addresses"),
    PHONE_EMAIL: _("Phone and email"),
    IDENTITY: _("Identity numbers"),
    CONTACTS: _("Contact persons"),
    NOTES_FILES: _("Notes and files"),
    SALES: _("Sales-document snapshots"),
}
ALL_CATEGORIES: frozenset[str] = frozenset(CATEGORY_LABELS)


@dataclass(frozen=True)
class FieldRule:
    personal: bool
    scrub: Scrub = Scrub.KEEP
    value: Any = None
    note: str = ""
    category: str = ""
    # Free text (a note, a message body): erasure searches it for *other* erased
    # people's names, emails and phone numbers and redacts them.
    free_text: bool = False

    def __post_init__(self):
        if self.personal and self.scrub == Scrub.KEEP:
            raise ValueError("A personal field needs a scrub other than KEEP.")
        if self.category and self.category not in ALL_CATEGORIES:
            raise ValueError(f"Unknown category {self.category!r}.")


NOT_PERSONAL = FieldRule(personal=False)


def personal(
    scrub: Scrub | str = Scrub.BLANK,
    value: Any = None,
    note: str = "",
    *,
    category: str = "",
    free_text: bool = False,
) -> FieldRule:
    return FieldRule(
        personal=True,
        scrub=Scrub(scrub),
        value=value,
        note=note,
        category=category,
        free_text=free_text,
    )


@dataclass(frozen=True)
class Needle:
    """Something that identifies an erased person in free text.

    ``pattern`` is a Python regular expression, matched case-insensitively; the database
    never reads it. It finds candidates by ``literal`` instead (``anonymization.scan``):
    for a ``text`` needle the words of a name or email, for a ``phone`` needle the
    national number's digits. A text needle matches where a word starts (``xAnna`` is not
    Anna), and a short last word (under ``WORD_KEY`` letters) must end the word too, so the
    database's word lookup finds every place the pattern matches.
    """

    category: str
    pattern: str
    kind: str = "text"  # or "phone"
    literal: str = ""


# The database compares this many first letters of a needle's second word (a prefix:
# "Svenssons" is found for "Svensson"); shorter words are compared whole.
WORD_KEY = 4

_SEP = r"[-. ()/]?"


def _literal(text: str) -> str:
    out = []
    for ch in text:
        if ch.isalnum():
            out.append(ch)
        elif ch.isspace():
            out.append(r"\s+")
        else:
            out.append("\\" + ch)
    return re.sub(r"(\\s\+)+", r"\\s+", "".join(out))


def text_needle(category: str, text: str, *, min_length: int = 5) -> Needle | None:
    """A name or an email as it may be written in a note (case-insensitive)."""
    text = " ".join((text or "").split())
    if len(text) < min_length:
        return None
    words = [w for w in re.split(r"\W+", text.lower()) if w]
    if not words:
        return None
    pattern = r"(?<!\w)" + _literal(text)
    if len(words) <= 2 and len(words[-1]) < WORD_KEY and re.search(r"\w$", text):
        pattern += r"(?!\w)"
    return Needle(category, pattern, "text", text)


# Countries whose national numbers phonenumbers would give as the digits without the
# trunk "0" (Sweden and Finland dial one, Norway and Denmark have none): a number written
# nationally there needs no parsing, which costs ~0.1 ms a number and a run notes seven
# numbers a customer.
_TRUNK_ZERO = frozenset({"SE", "FI", "NO", "DK", ""})


def phone_needle(category: str, number: str, country: str = "") -> Needle | None:
    """A phone number however it is written: +46 70-123 45 67, 0701234567, 070 123 45 67."""
    digits = re.sub(r"\D", "", number or "")
    if len(digits) < 6:
        return None
    written = (number or "").lstrip()
    if country.upper() in _TRUNK_ZERO and not written.startswith(("+", "00")):
        national = digits.lstrip("0")
    else:
        import phonenumbers

        try:
            national = str(phonenumbers.parse(number, country or "SE").national_number)
        except phonenumbers.NumberParseException:
            national = digits.lstrip("0")
    if len(national) < 6:
        return None
    body = _SEP.join(national)
    prefix = r"(\+[0-9]{1,3}[-. ]?(\(0\))?[-. ]?|00[0-9]{1,3}[-. ]?|0[-. ]?)?"
    return Needle(category, rf"(?<![0-9]){prefix}{body}(?![0-9])", "phone", national)


@dataclass
class Reach:
    path: str
    shared: bool = False
    parent: type[models.Model] | None = None
    # Fields set when a row is erased (a tombstone: deleted_at, is_active).
    mark: dict[str, Any] = field(default_factory=dict)
    # after(pks, language): recompute derived fields (search text) of the erased rows. The
    # subject's is called after(pks, language, done=...) and sets the ``done`` fields in
    # the same statement: each UPDATE of a subject row writes a new version into every
    # index of its table and fires its triggers (the private search copy's refresh).
    after: Callable[..., None] | None = None
    # bulk(pks) -> int: the model cannot be updated by the runtime role (append-only);
    # this function blanks the personal fields of those rows instead.
    bulk: Callable[[list[int]], int] | None = None
    # forget(pks, tenant_id) -> int: after commit, remove copies outside the database.
    forget: Callable[[list[int], int], int] | None = None
    # needles(row) -> Needle | None values: what identifies the person in free text.
    needles: Callable[[models.Model], Iterable[Needle | None]] | None = None
    # A change-history table: (object type, object id, field name) columns. Its rows are
    # scrubbed by the category of the field they record, and rows about any erased
    # object are scrubbed too, whoever's history they are in.
    history: tuple[str, str, str] | None = None


@dataclass
class ModelEntry:
    model: type[models.Model]
    fields: dict[str, FieldRule] = field(default_factory=dict)
    reach: Reach | None = None
    is_subject: bool = False
    # The subject only: how a finished erasure is marked, and how to tell it is done.
    done: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def category(self) -> str:
        """The model's main category: the commonest among its personal fields."""
        counts = Counter(r.category for r in self.fields.values() if r.personal and r.category)
        return counts.most_common(1)[0][0] if counts else ""


class PiiRegistry:
    def __init__(self) -> None:
        self._entries: dict[str, ModelEntry] = {}
        self._eraser: Callable[..., Any] | None = None

    def register(self, model: type[models.Model], /, **rules: FieldRule) -> None:
        names = {f.name for f in classifiable_fields(model)}
        unknown = set(rules) - names
        if unknown:
            raise ValueError(f"{model._meta.label} has no field(s) {sorted(unknown)}")
        entry = self._entries.setdefault(model._meta.label, ModelEntry(model))
        entry.fields.update(rules)

    def subject(self, model: type[models.Model], /, *, done: dict[str, Any], **reach) -> None:
        """The data subject's model (one): its rows are what an erasure run names."""
        entry = self._entries.setdefault(model._meta.label, ModelEntry(model))
        entry.is_subject = True
        entry.done = dict(done)
        entry.reach = Reach(path="pk", **reach)

    def reach(
        self,
        model: type[models.Model],
        path: str,
        /,
        *,
        shared: bool = False,
        parent: type[models.Model] | None = None,
        **options,
    ) -> None:
        """How ``model``'s rows reach the data subject (see the module docstring)."""
        if shared and parent is not None:
            raise ValueError("A shared model reaches the subject directly.")
        if shared:
            f = model._meta.get_field(path)
            if not f.many_to_many:
                raise ValueError(f"{model._meta.label}.{path} is not a many-to-many field.")
        entry = self._entries.setdefault(model._meta.label, ModelEntry(model))
        entry.reach = Reach(path=path, shared=shared, parent=parent, **options)

    def rules_for(self, model: type[models.Model]) -> dict[str, FieldRule]:
        entry = self._entries.get(model._meta.label)
        return dict(entry.fields) if entry else {}

    def personal_fields(self, model: type[models.Model]) -> dict[str, FieldRule]:
        return {n: r for n, r in self.rules_for(model).items() if r.personal}

    def models(self) -> list[type[models.Model]]:
        return [entry.model for entry in self._entries.values()]

    def entry(self, model: type[models.Model]) -> ModelEntry | None:
        return self._entries.get(model._meta.label)

    def entries(self) -> list[ModelEntry]:
        return list(self._entries.values())

    def subject_entry(self) -> ModelEntry:
        subjects = [e for e in self._entries.values() if e.is_subject]
        if len(subjects) != 1:
            raise RuntimeError(f"Expected one data subject model, found {len(subjects)}.")
        return subjects[0]

    def reaching(self) -> list[ModelEntry]:
        """Entries that reach the subject, each after the entries it depends on."""
        pending = [e for e in self._entries.values() if e.reach is not None]
        ordered: list[ModelEntry] = []
        done: set[str] = set()
        while pending:
            ready = [
                e
                for e in pending
                if e.reach.parent is None or e.reach.parent._meta.label in done or e.is_subject
            ]
            if not ready:
                names = sorted(e.label for e in pending)
                raise RuntimeError(f"Parents not registered or circular: {names}")
            ready.sort(key=lambda e: (not e.is_subject, e.reach.parent is not None, e.label))
            for e in ready:
                ordered.append(e)
                done.add(e.label)
                pending.remove(e)
        return ordered

    # --- The engine's entry point for lower apps (contact deletion) -------------------

    def install_eraser(self, eraser: Callable[..., Any]) -> None:
        """The engine installs itself here (``AnonymizationConfig.ready``)."""
        self._eraser = eraser

    def erase(self, obj: models.Model, /, **kwargs) -> Any:
        """Erase one registered row and everything that follows it, in every category.

        For a lower app (customers' contact deletion) that may not import the engine.
        """
        if self._eraser is None:
            raise RuntimeError("No erasure engine installed (is 'anonymization' installed?).")
        return self._eraser(obj, **kwargs)


def classifiable_fields(model: type[models.Model]) -> list[models.Field]:
    """Concrete fields and many-to-many fields declared on the model (not reverse relations)."""
    # Reverse relations are auto-created and not concrete; they belong to the other model.
    return [f for f in model._meta.get_fields() if not f.auto_created or f.concrete]


def unclassified_fields() -> list[str]:
    """Every ``app_label.Model.field`` of every installed model with no classification."""
    missing = []
    for model in apps.get_models(include_auto_created=False):
        rules = pii.rules_for(model)
        for f in classifiable_fields(model):
            if f.name not in rules:
                missing.append(f"{model._meta.label}.{f.name}")
    return sorted(missing)


def uncategorized_fields() -> list[str]:
    """Personal fields of models that reach the subject but belong to no category."""
    missing = []
    for entry in pii.entries():
        if entry.reach is None or entry.reach.history:
            continue
        for name, rule in entry.fields.items():
            if rule.personal and not rule.category:
                missing.append(f"{entry.label}.{name}")
    return sorted(missing)


pii = PiiRegistry()
