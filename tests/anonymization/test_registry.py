"""Every model field anywhere is classified as personal data or not.

``unclassified_fields()`` is the check (docs/design.md invariant 2). The tests below give it
fields it must report, so a check that reported nothing (or only some kinds of gap)
fails here, not only a project with every field classified.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.db import models

from anonymization.registry import (
    NAME,
    NOT_PERSONAL,
    FieldRule,
    PiiRegistry,
    Scrub,
    classifiable_fields,
    personal,
    phone_needle,
    pii,
    text_needle,
    uncategorized_fields,
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


# --- Issue 10: categories and paths the erasure engine walks ------------------------


def test_every_personal_field_that_reaches_the_subject_has_a_category():
    assert uncategorized_fields() == []


def test_an_unknown_category_is_refused():
    with pytest.raises(ValueError, match="category"):
        personal(Scrub.BLANK, category="shoe_size")
    assert personal(Scrub.BLANK, category=NAME, free_text=True).free_text


def test_one_data_subject_and_every_parent_registered():
    subject = pii.subject_entry()
    assert subject.model._meta.label == "customers.Customer"
    order = [e.label for e in pii.reaching()]
    assert order[0] == subject.label
    for entry in pii.reaching():
        if entry.reach.parent is not None:
            assert order.index(entry.reach.parent._meta.label) < order.index(entry.label)


def test_a_model_linked_to_erased_rows_declares_how_it_reaches_them():
    """A new model with personal fields and a foreign key to the customer (or to anything
    the engine erases) that says nothing of its reach would never be erased."""
    reaching = {e.model for e in pii.reaching()}
    silent = []
    for entry in pii.entries():
        if entry.reach is not None or not pii.personal_fields(entry.model):
            continue
        links = [
            f.name
            for f in entry.model._meta.concrete_fields
            if f.is_relation and f.related_model in reaching
        ]
        if links:
            silent.append(f"{entry.label} ({', '.join(links)})")
    assert silent == [], "declare pii.reach(...) for: " + ", ".join(silent)


def test_append_only_models_are_scrubbed_through_their_function():
    """The runtime role cannot update an append-only table: its pii.py names the function."""
    for entry in pii.reaching():
        if getattr(entry.model, "append_only", False) and pii.personal_fields(entry.model):
            assert entry.reach.bulk is not None, entry.label


def test_a_shared_reach_is_a_many_to_many_field():
    registry = PiiRegistry()
    with pytest.raises(ValueError, match="many-to-many"):
        registry.reach(ReferenceEntry, "tenant", shared=True)


def test_without_an_engine_the_registry_cannot_erase():
    with pytest.raises(RuntimeError, match="engine"):
        PiiRegistry().erase(ReferenceEntry())
    assert pii._eraser is not None  # the anonymization app installed it


def test_needles_match_however_the_name_and_number_are_written():
    name = text_needle(NAME, "Åsa  Lind-Berg")
    phone = phone_needle(NAME, "+46 70-123 45 67", "SE")
    assert text_needle(NAME, "Bo") is None  # too short to search for
    rx = re.compile(f"({name.pattern}|{phone.pattern})", re.IGNORECASE)
    text = "Ring ÅSA LIND-BERG på 070 123 45 67 eller +46701234567, inte 9070123456701."
    assert rx.sub("[…]", text) == "Ring […] på […] eller […], inte 9070123456701."


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("070-123 45 67", "SE"),
        ("08-555 123 45", "SE"),
        ("040 123 4567", "FI"),
        ("22 33 44 55", "NO"),
        ("40 12 34 56", "DK"),
        ("+46 70-123 45 67", "NO"),
        ("0047 22 33 44 55", "SE"),
    ],
)
def test_a_nationally_written_number_needs_no_parsing_and_gets_the_same_digits(number, country):
    import phonenumbers

    expected = str(phonenumbers.parse(number, country).national_number)
    assert phone_needle(NAME, number, country).literal == expected
