"""The sales-document API: the upsert, lists, Idempotency-Key, problem+json, cross-tenant 404s."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings

from audit.actors import Actor
from customers.models import Customer
from sales.models import SalesDocument
from tenancy.context import tenant_context
from tenancy.services import api_key_create
from tests.factories import make_customer

URL = "/api/v1/sales-documents/"
PROBLEM = "application/problem+json"


def send(client, body, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def errors(response) -> dict[str, str]:
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def body(customer_id, **fields):
    return {
        "customer": customer_id,
        "kind": "invoice",
        "number": "1001",
        "date": "2026-03-01",
        "status": "open",
        "amount": "250.00",
        "balance": "250.00",
        **fields,
    }


@pytest.fixture
def api_a(personas):
    return personas.api(personas.key_a)


@pytest.fixture
def api_b(personas):
    return personas.api(personas.key_b)


@pytest.fixture
def customer_a(personas):
    with tenant_context(personas.tenant_a):
        return make_customer(name="Kund A AB")


@pytest.fixture
def customer_b(personas):
    with tenant_context(personas.tenant_b):
        return make_customer(name="Kunde B AS")


def count(tenant) -> int:
    with tenant_context(tenant):
        return SalesDocument.objects.count()


def test_post_creates_201_then_updates_200(api_a, personas, customer_a):
    created = send(api_a, body(customer_a.pk))
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["customer"] == customer_a.pk
    assert (data["amount"], data["balance"], data["currency"]) == ("250.00", "250.00", "SEK")
    assert data["customer_name"] == "Kund A AB"
    updated = send(api_a, body(customer_a.pk, status="closed", balance="0.00"))
    assert updated.status_code == 200, updated.content
    assert updated.json()["id"] == data["id"]
    assert updated.json()["status"] == "closed"
    assert count(personas.tenant_a) == 1
    with tenant_context(personas.tenant_a):
        customer = Customer.objects.get(pk=customer_a.pk)
        assert customer.last_activity_at is not None


def test_list_read_and_filter_by_customer(api_a, personas, customer_a):
    with tenant_context(personas.tenant_a):
        other = make_customer(name="Annan AB")
    for number in ("1", "2", "3"):
        assert send(api_a, body(customer_a.pk, number=number)).status_code == 201
    assert send(api_a, body(other.pk, number="9")).status_code == 201
    listed = api_a.get(URL, {"customer": customer_a.pk, "page_size": 2})
    assert listed.status_code == 200
    page = listed.json()
    assert [d["number"] for d in page["results"]] == ["3", "2"]
    assert page["next"]
    rest = api_a.get(page["next"]).json()
    assert [d["number"] for d in rest["results"]] == ["1"]
    assert len(api_a.get(URL).json()["results"]) == 4
    one = page["results"][0]
    read = api_a.get(f"{URL}{one['id']}/")
    assert read.status_code == 200
    assert read.json() == one


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"balance": "-5.00"}, "balance"),
        ({"amount": "1.005"}, "amount"),
        ({"currency": "sek"}, "currency"),
        ({"date": "2099-01-01"}, "date"),
        ({"date": "1.3.2026"}, "date"),
        ({"kind": "receipt"}, "kind"),
        ({"status": "paid"}, "status"),
        ({"number": ""}, "number"),
        ({"customer": 0}, "customer"),
        ({"customer": "abc"}, "customer"),
    ],
)
def test_bad_input_is_a_problem_with_field_errors_and_saves_nothing(
    api_a, personas, customer_a, fields, field
):
    response = send(api_a, body(customer_a.pk, **fields))
    assert field in errors(response)
    assert count(personas.tenant_a) == 0


def test_negative_balance_of_a_credit_note_is_fine(api_a, customer_a):
    response = send(
        api_a, body(customer_a.pk, kind="credit_note", amount="-40.00", balance="-40.00")
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("language", ["sv", "da", "nb"])
def test_every_sales_text_has_a_translation(language):
    """Until the fragments are merged (`make messages`) they hold the texts; then django.po."""
    root = Path(settings.LOCALE_PATHS[0])
    translated = {
        entry.msgid
        for path in (
            root / language / "LC_MESSAGES" / "django.po",
            *(root / "fragments").glob(f"sales*.{language}.po"),  # sales.po, sales-import.po
        )
        if path.exists()
        for entry in polib.pofile(str(path)).translated_entries()
    }
    source = "".join(path.read_text() for path in Path(settings.BASE_DIR, "sales").glob("*.py"))
    msgids = set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"\s*\)', source))
    assert len(msgids) > 30
    assert sorted(msgids - translated) == []


def test_another_tenants_customer_is_unknown(api_b, personas, customer_a):
    response = send(api_b, body(customer_a.pk))
    assert "customer" in errors(response)
    assert count(personas.tenant_a) == 0
    assert count(personas.tenant_b) == 0


def test_another_tenants_document_is_404(api_a, api_b, personas, customer_a):
    created = send(api_a, body(customer_a.pk)).json()
    assert api_b.get(f"{URL}{created['id']}/").status_code == 404
    assert api_b.get(URL, {"customer": customer_a.pk}).status_code == 404
    assert api_b.get(URL).json()["results"] == []
    charlie = personas.client(personas.charlie)
    assert charlie.get(f"{URL}{created['id']}/").status_code == 404


def test_the_same_number_in_another_tenant_is_another_document(
    api_a, api_b, personas, customer_a, customer_b
):
    assert send(api_a, body(customer_a.pk)).status_code == 201
    response = send(api_b, body(customer_b.pk))
    assert response.status_code == 201
    assert response.json()["currency"] == "NOK"
    assert count(personas.tenant_a) == count(personas.tenant_b) == 1


def test_idempotency_key_replays_the_first_answer(api_a, personas, customer_a):
    first = send(api_a, body(customer_a.pk), HTTP_IDEMPOTENCY_KEY="k-1")
    again = send(api_a, body(customer_a.pk), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = send(api_a, body(customer_a.pk, balance="1.00"), HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409
    assert other["Content-Type"] == PROBLEM
    assert count(personas.tenant_a) == 1


def test_a_key_without_sales_write_cannot_post(personas, customer_a):
    with tenant_context(personas.tenant_a):
        _key, raw = api_key_create(
            name="Läsare", scopes=["customers:read"], actor=Actor.system("test")
        )
    reader = personas.api(raw)
    assert send(reader, body(customer_a.pk)).status_code == 403
    assert reader.get(URL).status_code == 200
    assert count(personas.tenant_a) == 0


def test_amount_keeps_two_decimals(api_a, personas, customer_a):
    send(api_a, body(customer_a.pk, amount="10", balance="2.5"))
    with tenant_context(personas.tenant_a):
        document = SalesDocument.objects.get()
    assert (document.amount, document.balance) == (Decimal("10.00"), Decimal("2.50"))
