"""The audit page for people (issue 14, item 10): entries as sentences with the stored
entry under Details, filters by person, action, object or customer number and time,
and the filtered entries exported as CSV (audited, only the company's own entries)."""

from __future__ import annotations

import csv
import io

import pytest

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record
from customers.services.contacts import contact_create, contact_link
from tenancy.context import tenant_context
from tests.factories import make_customer


@pytest.fixture
def log(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Östergård Bygg AB")
        other = make_customer(name="Berg & Son AB")
        contact = contact_create(
            customer=other, actor=Actor.user(personas.bob), first_name="Åsa", last_name="Lind"
        )
        contact_link(contact=contact, customer=customer, actor=Actor.user(personas.alice))
        audit_record(
            action="reports.exported",
            actor=Actor.user(personas.bea),
            object_type="report",
            object_id="phones",
            data={"report": "phones", "format": "csv", "count": 3, "complete": True},
        )
    with tenant_context(personas.tenant_b):
        b_customer = make_customer(name="Fjordvik Fisk AS")
    return customer, other, contact, b_customer


def _page(client, **params) -> str:
    response = client.get("/audit/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_rows_are_sentences_with_the_raw_entry_under_details(personas, log):
    customer, _other, _contact, _b = log
    page = _page(personas.client(personas.alice))
    assert "alice linked the contact Åsa Lind" in page
    assert f'href="/t/nordljus/customers/{customer.pk}/"' in page
    assert "bea exported the report “Phone list” with 3 rows as CSV." in page
    assert "<details" in page and "contact.linked" in page  # the stored entry, for auditors
    assert "{&#x27;" not in page and "User 1" not in page


def test_filter_by_person(personas, log):
    page = _page(personas.client(personas.alice), who=f"user:{personas.bob.pk}")
    assert "bob added the contact" in page
    assert "alice linked" not in page and "bea exported" not in page


def test_filter_by_action_exact_or_prefix(personas, log):
    alice = personas.client(personas.alice)
    page = _page(alice, action="contact.linked")
    assert "alice linked" in page and "bob added the contact" not in page
    # Older links (the dashboard's) give a prefix; it still filters and shows in the select.
    page = _page(alice, action="reports.")
    assert "bea exported" in page and "alice linked" not in page
    assert "Starting with “reports.”" in page


def test_filter_by_customer_number_finds_entries_naming_it_anywhere(personas, log):
    customer, other, _contact, _b = log
    page = _page(personas.client(personas.alice), customer=customer.number)
    assert "alice linked the contact" in page  # names the customer in its data
    assert "created the customer" in page
    assert "bob added the contact" not in page  # about the other customer
    page = _page(personas.client(personas.alice), object_type="customer", object_id=other.pk)
    assert "created the customer" in page and "alice linked" not in page


def test_an_unknown_customer_number_is_a_field_message(personas, log):
    page = _page(personas.client(personas.alice), customer="999999")
    assert "No customer has this number." in page
    # Another company's customer number is unknown here too.
    _customer, _other, _contact, b_customer = log
    assert b_customer.number  # exists in B
    page = _page(personas.client(personas.alice), customer="nope")
    assert "No customer has this number." in page


def test_export_is_the_filtered_entries_as_csv_and_is_audited(personas, log):
    customer, _other, _contact, _b = log
    alice = personas.client(personas.alice)
    page = alice.get("/audit/").content.decode()
    assert "The file names customers by their number only" in page  # said before the click
    response = alice.get("/reports/audit-log/export/", {"customer": customer.number})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header, rows = rows[0], rows[1:]
    assert header[:5] == ["Time (UTC)", "Time", "Person", "Action", "What happened"]
    sentences = [r[4] for r in rows]
    assert any(s.startswith("alice linked the contact") for s in sentences)
    assert any(
        s == f"The system created the customer customer {customer.number}." for s in sentences
    )
    # The file names customers by number only, and nothing of the other customer.
    assert "Östergård" not in body and "bob added" not in body
    with tenant_context(personas.tenant_a):
        event = AuditEvent.objects.filter(action="audit.exported").get()
    assert event.data == {
        "format": "csv",
        "count": len(rows),
        "complete": True,
        "filters": ["customer_id"],
    }
    assert event.actor_id == str(personas.alice.pk)


def test_another_tenant_sees_none_of_the_entries(personas, log):
    charlie = personas.client(personas.charlie)
    page = _page(charlie)
    assert "Åsa Lind" not in page and "Östergård" not in page and "alice" not in page
    response = charlie.get("/reports/audit-log/export/")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "alice" not in body and "contact.linked" not in body
    assert "Fjordvik" not in body  # numbers only, even of its own customers
    # Alice's person filter means nothing in B, and A's customer numbers are unknown there.
    page = _page(charlie, who=f"user:{personas.alice.pk}")
    assert "Select a valid choice" in page or "No events match." in page


def test_staff_may_not_see_or_export_the_log(personas, log):
    bob = personas.client(personas.bob)
    assert bob.get("/audit/").status_code == 403
    assert bob.get("/reports/audit-log/export/").status_code == 403


def test_a_big_export_becomes_a_job(personas, log, settings):
    settings.REPORTS_EXPORT_INLINE_MAX_ROWS = 1
    response = personas.client(personas.alice).get("/reports/audit-log/export/")
    assert response.status_code == 302 and "/reports/exports/" in response["Location"]
