"""config/bulk.py: values sent as one array literal arrive exactly as they were, and
``AnyOf`` selects exactly the ids it is given (the anonymization chunks and the free-text
scan write personal data's replacements and redactions through these)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from config.bulk import AnyOf, array_param, update_rows
from customers.models import Activity
from tenancy.context import tenant_context
from tests.factories import make_customer

AWKWARD = [
    'a "quoted" word',
    "back\\slash \\\\ and \\N",
    "{braces}, commas; NULL",
    "NULL",
    "",
    "Åsa Öberg — [… ] 'single' quotes\nnew line\ttab",
    " leading and trailing ",
]


def test_strings_arrive_exactly_as_sent(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Bulk AB")
        notes = [
            Activity.objects.create(customer=customer, kind="note", subject="s", body="b")
            for _ in AWKWARD
        ]
        rows = [(n.pk, text, text[::-1]) for n, text in zip(notes, AWKWARD, strict=True)]
        assert update_rows(Activity, ["body", "subject"], rows) == len(rows)
        got = {a.pk: (a.body, a.subject) for a in Activity.objects.filter(customer=customer)}
    assert got == {pk: (body, subject) for pk, body, subject in rows}


def test_other_types_go_as_lists():
    stamp = dt.datetime(2020, 1, 2, tzinfo=dt.UTC)
    assert array_param([stamp, None]) == [stamp, None]
    assert array_param([3, None, 1]) == "{3,NULL,1}"
    assert array_param([True, False]) == [True, False]  # not integers
    assert array_param(["x", None]) == '{"x",NULL}'


def test_a_datetime_column_is_updated_too(personas):
    stamp = dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.UTC)
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Bulk AB")
        note = Activity.objects.create(customer=customer, kind="note", subject="s", body="b")
        update_rows(Activity, ["done_at", "body"], [(note.pk, stamp, "klar")])
        note.refresh_from_db()
    assert (note.done_at, note.body) == (stamp, "klar")


def test_any_of_selects_exactly_the_ids(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Bulk AB")
        notes = [
            Activity.objects.create(customer=customer, kind="note", subject="s", body=str(i))
            for i in range(4)
        ]
        wanted = [notes[0].pk, notes[2].pk]
        mine = Activity.objects.filter(customer=customer)
        assert sorted(mine.filter(AnyOf("pk", wanted)).values_list("pk", flat=True)) == wanted
        assert not mine.filter(AnyOf("pk", [])).exists()
        assert mine.exclude(AnyOf("pk", wanted)).count() == 2
        assert mine.filter(Q(AnyOf("customer", [customer.pk])) & Q(body="1")).count() == 1
