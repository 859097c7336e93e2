"""The customer card's Sales tab: the documents, search, pages, totals, and who sees it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from audit.actors import Actor
from sales.services import sales_document_post
from sales.views import PAGE_SIZE
from tenancy.context import tenant_context
from tests.factories import make_customer


@pytest.fixture
def customer(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Fliken AB")
        for i in range(PAGE_SIZE + 2):
            sales_document_post(
                customer=customer,
                kind="invoice" if i % 2 else "quote",
                number=f"N{i:03}",
                date=dt.date(2026, 1, 1) + dt.timedelta(days=i),
                status="open" if i < 3 else "closed",
                amount=Decimal("10.00"),
                balance=Decimal("10.00"),
                actor=Actor.system("test"),
            )
    return customer


def url(customer) -> str:
    return f"/sales/customers/{customer.pk}/"


def test_the_tab_lists_a_page_with_totals(personas, customer):
    response = personas.client(personas.bob).get(url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="tab-sales"' in html and 'aria-current="page"' in html
    assert len(response.context["page"].object_list) == PAGE_SIZE
    totals = response.context["totals"]
    assert totals["count"] == PAGE_SIZE + 2
    assert (totals["open_count"], totals["balance"]) == (3, Decimal("30.00"))
    assert not totals["is_prospect"]
    assert "N026" in html and "N000" not in html  # newest first
    second = personas.client(personas.bob).get(url(customer), {"page": 2})
    assert "N000" in second.content.decode()


def test_search_and_filters(personas, customer):
    client = personas.client(personas.alice)
    found = client.get(url(customer), {"q": "n00", "kind": "quote", "status": "open"})
    numbers = [d.number for d in found.context["page"].object_list]
    assert numbers == ["N002", "N000"]


def test_htmx_gets_only_the_body(personas, customer):
    response = personas.client(personas.alice).get(url(customer), HTTP_HX_REQUEST="true")
    assert b"<html" not in response.content
    assert b'id="card-panel"' in response.content


def test_the_card_links_the_tab(personas, customer):
    html = personas.client(personas.alice).get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="tab-sales"' in html


def test_another_tenants_customer_is_404_and_employees_403(personas, customer):
    assert personas.client(personas.charlie).get(url(customer)).status_code == 404
    assert personas.client(personas.erik).get(url(customer)).status_code == 403


def test_a_bad_filter_is_ignored_not_an_error(personas, customer):
    response = personas.client(personas.alice).get(url(customer), {"kind": "nonsense"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == PAGE_SIZE
