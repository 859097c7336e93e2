"""The free-text scan (anonymization/scan.py): the database finds candidates by words and
digits, Python checks the patterns. Every way a name or phone is written that the
patterns match must be found, and nothing else changed."""

from __future__ import annotations

import pytest

from anonymization.engine import anonymize_customers
from anonymization.models import ErasureNeedle
from audit.actors import Actor
from customers.models import Activity
from tenancy.context import tenant_context
from tests.factories import make_customer

SYSTEM = Actor.system("tests")

CASES = [
    ("Anna Svenssons bil står kvar.", "[…]s bil står kvar."),
    ("ANNA   SVENSSON ringde", "[…] ringde"),
    ("Hanna Svensson och Annas syster", "Hanna Svensson och Annas syster"),
    ("mejla anna.svensson@example.se!", "mejla […]!"),
    ("tel +46 (0)70-111 22 33, 0046701112233 el. 070 111 22 33", "tel […], […] el. […]"),
    ("kod 9070111223399 och 70111223", "kod 9070111223399 och 70111223"),
    ("ÅSA ÖBERG, Åsa Öbergs fru", "[…], […]s fru"),
    ("Bo Ek. Bo Eks bror, Bo Ekström", "[…]. Bo Eks bror, Bo Ekström"),
    ("", ""),
]


@pytest.fixture
def erased(personas):
    with tenant_context(personas.tenant_a):
        people = [
            make_customer(
                name="Anna Svensson", email="anna.svensson@example.se", mobile="070-111 22 33"
            ),
            make_customer(name="Åsa Öberg"),
            make_customer(name="Bo Ek"),
        ]
        other = make_customer(name="Kvarboende AB")
    return personas, people, other


def test_every_way_of_writing_them_is_found_and_nothing_else(erased):
    personas, people, other = erased
    with tenant_context(personas.tenant_a):
        notes = [
            Activity.objects.create(customer=other, kind="note", subject="x", body=text)
            for text, _expected in CASES
        ]
        result = anonymize_customers([c.pk for c in people], actor=SYSTEM)
        bodies = [Activity.objects.get(pk=n.pk).body for n in notes]
    assert bodies == [expected for _text, expected in CASES]
    assert result.redacted["customers.Activity"] == sum(t != e for t, e in CASES)
    with tenant_context(personas.tenant_a):
        # A single erasure never leaves whom it looked for behind.
        assert not ErasureNeedle.objects.exists()


def test_another_tenants_text_is_not_searched(erased):
    personas, people, _other = erased
    with tenant_context(personas.tenant_b):
        theirs = make_customer(name="Fjordvik AS")
        note = Activity.objects.create(
            customer=theirs, kind="note", subject="x", body="Anna Svensson"
        )
    with tenant_context(personas.tenant_a):
        anonymize_customers([people[0].pk], actor=SYSTEM)
    with tenant_context(personas.tenant_b):
        assert Activity.objects.get(pk=note.pk).body == "Anna Svensson"


def test_a_saved_lists_search_naming_the_person_is_redacted(erased):
    """Saved lists keep their search (issue 14.5); one that names an erased person must not
    outlive the erasure."""
    from customers.services.selections import saved_list_save

    personas, people, _other = erased
    with tenant_context(personas.tenant_a):
        naming = saved_list_save(user=personas.bob, name="Anna", filters={"q": "Anna Svensson"})
        other = saved_list_save(user=personas.bob, name="Bygg", filters={"q": "bygg"})
        anonymize_customers([people[0].pk], actor=SYSTEM)
        naming.refresh_from_db()
        other.refresh_from_db()
    assert (naming.search, other.search) == ("[…]", "bygg")
