"""Every model field anywhere is classified as personal data or not.

``unclassified_fields()`` is the check (DESIGN.md invariant 2). The tests below give it
fields it must report, so a check that reported nothing (or only some kinds of gap)
fails here, not only a project with every field classified.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.db import models

from anonymization.registry import (
    NOT_PERSONAL,
    FieldRule,
    PiiRegistry,
    Scrub,
    classifiable_fields,
    personal,
    pii,
    unclassified_fields,
)
from tenancy.models import ReferenceEntry

APP = "anonymization"


@contextmanager
def _scratch_model(name: str, **fields: models.Field) -> Iterator[type[models.Model]]:
    """A model created for the test in the live app registry, gone (with its rules) after."""
    attrs = {"__module__": __name__, "Meta": type("Meta", (), {"app_label": APP}), **fields}
    model = type(name, (models.Model,), attrs)
    try:
        yield model
    finally:
        pii._entries.pop(model._meta.label, None)
        for registered in list(apps.all_models[APP]):
            if registered.startswith(name.lower()):  # the model and its m2m through table
                del apps.all_models[APP][registered]
        apps.clear_cache()


def test_no_field_is_unclassified():
    missing = unclassified_fields()
    assert missing == [], "Classify these in the app's pii.py: " + ", ".join(missing)


def test_unclassified_fields_sees_a_new_model():
    with _scratch_model("Scratch", secret_name=models.CharField(max_length=10)):
        missing = unclassified_fields()
    assert "anonymization.Scratch.secret_name" in missing
    assert "anonymization.Scratch.id" in missing  # the primary key is a field too


def test_unclassified_fields_sees_a_new_field_on_a_registered_model():
    """The model is in the registry, one field of it is not: that field is reported."""
    with _scratch_model(
        "ScratchPartly",
        code=models.CharField(max_length=10),
        nickname=models.CharField(max_length=10),
    ) as model:
        pii.register(model, id=NOT_PERSONAL, code=NOT_PERSONAL)
        missing = unclassified_fields()
        pii.register(model, nickname=personal(Scrub.BLANK))
        after_classifying = unclassified_fields()
    assert [m for m in missing if m.startswith("anonymization.ScratchPartly.")] == [
        "anonymization.ScratchPartly.nickname"
    ]
    assert not [m for m in after_classifying if m.startswith("anonymization.ScratchPartly.")]


def test_unclassified_fields_sees_relations_and_many_to_many():
    """Links hold personal data too (who belongs to which group): they need a rule."""
    with _scratch_model(
        "ScratchLinks",
        entry=models.ForeignKey(ReferenceEntry, on_delete=models.CASCADE, related_name="+"),
        groups=models.ManyToManyField("auth.Group", related_name="+"),
    ) as model:
        pii.register(model, id=NOT_PERSONAL)
        missing = unclassified_fields()
        # The reverse side belongs to ScratchLinks: ReferenceEntry gets nothing to classify.
        assert all(f.related_model is not model for f in classifiable_fields(ReferenceEntry))
    assert "anonymization.ScratchLinks.entry" in missing
    assert "anonymization.ScratchLinks.groups" in missing
    # The auto-created through table is nobody's declaration: not reported on its own.
    assert not [m for m in missing if "ScratchLinks_groups" in m]


def test_a_registry_keeps_only_what_was_registered():
    registry = PiiRegistry()
    registry.register(ReferenceEntry, code=NOT_PERSONAL)
    assert set(registry.rules_for(ReferenceEntry)) == {"code"}
    assert "name" not in registry.rules_for(ReferenceEntry)


def test_registering_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="no field"):
        PiiRegistry().register(ReferenceEntry, nickname=NOT_PERSONAL)


def test_a_personal_field_needs_a_scrub():
    with pytest.raises(ValueError):
        FieldRule(personal=True, scrub=Scrub.KEEP)
    assert personal(Scrub.REPLACE, "Anonymized").value == "Anonymized"
