"""config/bulk.py: values sent as one array literal arrive exactly as they were, and
``AnyOf`` selects exactly the ids it is given (the anonymization chunks and the free-text
scan write personal data's replacements and redactions through these)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.db.models import Q

from config.bulk import AnyOf, array_param, insert_rows, update_rows
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


def test_insert_rows_returns_the_ids_in_order_with_defaults_filled_in(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Insert AB")
        rows = [
            {
                "tenant_id": personas.tenant_a.pk,
                "customer_id": customer.pk,
                "kind": "note",
                "subject": text[:200],
                "body": text,
                "due_date": dt.date(2026, 12, 24) if i % 2 else None,
            }
            for i, text in enumerate(AWKWARD)
        ]
        ids = insert_rows(Activity, rows)
        got = {a.pk: a for a in Activity.objects.filter(pk__in=ids)}
    assert len(ids) == len(AWKWARD) == len(got)
    for pk, row in zip(ids, rows, strict=True):
        assert (got[pk].body, got[pk].due_date) == (row["body"], row["due_date"])
        assert got[pk].done_at is None and got[pk].created_at is not None  # defaults, auto_now
    assert insert_rows(Activity, []) == []


def test_insert_rows_is_held_to_the_tenant_by_row_security(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Insert AB")
    with (
        tenant_context(personas.tenant_b),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        insert_rows(
            Activity,
            [
                {
                    "tenant_id": personas.tenant_a.pk,
                    "customer_id": customer.pk,
                    "kind": "note",
                    "subject": "s",
                    "body": "b",
                }
            ],
        )
