"""Every model field anywhere is classified as personal data or not."""

import pytest
from django.db import models

from anonymization.registry import (
    NOT_PERSONAL,
    FieldRule,
    PiiRegistry,
    Scrub,
    personal,
    unclassified_fields,
)
from tenancy.models import ReferenceEntry


def test_no_field_is_unclassified():
    missing = unclassified_fields()
    assert missing == [], "Classify these in the app's pii.py: " + ", ".join(missing)


def test_a_new_unclassified_field_is_caught():
    registry = PiiRegistry()
    registry.register(ReferenceEntry, code=NOT_PERSONAL)
    assert "name" not in registry.rules_for(ReferenceEntry)


def test_registering_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="no field"):
        PiiRegistry().register(ReferenceEntry, nickname=NOT_PERSONAL)


def test_a_personal_field_needs_a_scrub():
    with pytest.raises(ValueError):
        FieldRule(personal=True, scrub=Scrub.KEEP)
    assert personal(Scrub.REPLACE, "Anonymized").value == "Anonymized"


def test_unclassified_fields_sees_a_new_model():
    class Scratch(models.Model):
        secret_name = models.CharField(max_length=10)

        class Meta:
            app_label = "anonymization"

    from django.apps import apps

    try:
        missing = unclassified_fields()
    finally:
        del apps.all_models["anonymization"]["scratch"]
        apps.clear_cache()
    assert "anonymization.Scratch.secret_name" in missing
