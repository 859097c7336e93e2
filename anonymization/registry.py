"""The PII registry: for every model field, is it personal data, and how is it scrubbed.

Each app declares its models in its own ``pii.py``::

    from anonymization.registry import pii, personal, NOT_PERSONAL, Scrub

    pii.register(Customer, name=personal(Scrub.REPLACE, "Anonymized"), number=NOT_PERSONAL, ...)

This module is a floor: it imports no domain app, and it is the only part of
``anonymization/`` that lower apps may import. The anonymization runner walks
the registry and never names an app; ``unclassified_fields()`` is what the
test suite uses to fail when a field is added without a classification.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models


class Scrub(enum.StrEnum):
    KEEP = "keep"  # not personal: left as it is
    BLANK = "blank"  # set to "" (or the field's empty value)
    NULL = "null"  # set to NULL
    REPLACE = "replace"  # set to a fixed replacement value
    DELETE_FILE = "delete_file"  # remove the stored file, then blank the field
    DELETE_ROW = "delete_row"  # the row itself is personal data: delete it
    CUSTOM = "custom"  # a callable(instance) -> None does it


@dataclass(frozen=True)
class FieldRule:
    personal: bool
    scrub: Scrub = Scrub.KEEP
    value: Any = None
    note: str = ""

    def __post_init__(self):
        if self.personal and self.scrub == Scrub.KEEP:
            raise ValueError("A personal field needs a scrub other than KEEP.")


NOT_PERSONAL = FieldRule(personal=False)


def personal(scrub: Scrub | str = Scrub.BLANK, value: Any = None, note: str = "") -> FieldRule:
    return FieldRule(personal=True, scrub=Scrub(scrub), value=value, note=note)


@dataclass
class ModelEntry:
    model: type[models.Model]
    fields: dict[str, FieldRule] = field(default_factory=dict)


class PiiRegistry:
    def __init__(self) -> None:
        self._entries: dict[str, ModelEntry] = {}

    def register(self, model: type[models.Model], /, **rules: FieldRule) -> None:
        names = {f.name for f in classifiable_fields(model)}
        unknown = set(rules) - names
        if unknown:
            raise ValueError(f"{model._meta.label} has no field(s) {sorted(unknown)}")
        entry = self._entries.setdefault(model._meta.label, ModelEntry(model))
        entry.fields.update(rules)

    def rules_for(self, model: type[models.Model]) -> dict[str, FieldRule]:
        entry = self._entries.get(model._meta.label)
        return dict(entry.fields) if entry else {}

    def personal_fields(self, model: type[models.Model]) -> dict[str, FieldRule]:
        return {n: r for n, r in self.rules_for(model).items() if r.personal}

    def models(self) -> list[type[models.Model]]:
        return [entry.model for entry in self._entries.values()]


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


pii = PiiRegistry()
