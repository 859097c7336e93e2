"""The Anonymization page (issue 9 item 6): who may see it, the lists and their counts, the
blockers named, the forecast chart, the filter, and another tenant's customers absent."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from anonymization.models import RetentionPolicy
from anonymization.services import legal_hold_set
from audit.actors import Actor
from customers.models import Customer
from tenancy.context import tenant_context
from tests.anonymization.test_eligibility import customer, document

URL = "/anonymization/"
OLD = dt.date(2015, 3, 1)


def _count(html: str, section: str) -> int:
    match = re.search(rf'id="{section}-count">(\d+)<', html)
    assert match, section
    return int(match.group(1))


@pytest.fixture
def world(personas):
    """Tenant A: 2 eligible prospects, 3 eligible customers, 3 blocked, 1 waiting, and
    1 becoming eligible in two months; tenant B: an eligible and a blocked customer."""
    today = timezone.localdate()
    with tenant_context(personas.tenant_a):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        for name in ("Prospekt Ett", "Prospekt Två"):
            document(customer(name, last=OLD), "quote")
        for name in ("Gammal Ett", "Gammal Två", "Gammal Tre"):
            customer(name, last=OLD)
        document(customer("Öppen Order", last=OLD), "order", status="open")
        document(customer("Skuld", last=OLD), "payment", status="open", balance="-20.00")
        held = customer("Tvist", last=OLD)
        legal_hold_set(customer=held, reason="Tvist om faktura", actor=Actor.system("tests"))
        customer("Aktiv", last=today)
        # A fiscal year ending on the 15th of next month, and a 1-year override: eligible
        # on the 16th of next month (index 1 of the forecast).
        next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=15)
        tenant = personas.tenant_a
        tenant.fiscal_year_end_month, tenant.fiscal_year_end_day = next_month.month, 15
        tenant.save(update_fields=["fiscal_year_end_month", "fiscal_year_end_day"])
        customer("Snart", last=next_month.replace(year=next_month.year - 1), retention_years=1)
    with tenant_context(personas.tenant_b):
        customer("Fjordvik Gammel", last=OLD)
        document(customer("Fjordvik Ordre", last=OLD), "order", status="open")
    return personas


def test_roles(world):
    p = world
    assert p.client(p.alice).get(URL).status_code == 200
    assert p.client(p.bea).get(URL).status_code == 200
    assert p.client(p.bob).get(URL).status_code == 403
    assert p.client(p.erik).get(URL).status_code == 403


def test_counts_and_rows(world):
    p = world
    response = p.client(p.bea).get(URL)
    html = response.content.decode()
    assert _count(html, "prospects") == 2
    assert _count(html, "customers") == 3
    assert _count(html, "blocked") == 3
    for name in ("Prospekt Ett", "Gammal Tre", "Öppen Order", "Skuld", "Tvist"):
        assert name in html
    assert "Aktiv" not in html
    with tenant_context(p.tenant_a):
        c = Customer.objects.get(name="Gammal Ett")
        held = Customer.objects.get(name="Tvist")
        order = Customer.objects.get(name="Öppen Order")
    row = re.search(rf'<tr id="customers-{c.pk}">.*?</tr>', html, re.S).group(0)
    assert f'/customers/{c.pk}/">Gammal Ett</a>' in row
    assert "fiscal year ending" in row and "5 years" in row
    held_row = re.search(rf'<tr id="blocked-{held.pk}".*?</tr>', html, re.S).group(0)
    assert "On legal hold" in held_row and "Open orders" not in held_row
    order_row = re.search(rf'<tr id="blocked-{order.pk}".*?</tr>', html, re.S).group(0)
    assert "Open orders, deliveries, invoices or cases" in order_row
    assert "take all 5 customers that match these filters" in html
    # No inline styles or scripts under the strict CSP.
    assert "style=" not in html and "<script>" not in html


def test_filter_prospects_only(world):
    p = world
    html = p.client(p.alice).get(URL, {"show": "prospects"}).content.decode()
    assert _count(html, "prospects") == 2
    assert 'id="customers-count"' not in html
    assert _count(html, "blocked") == 0  # every blocked one has no quote-only history
    assert "take all 2 customers that match these filters" in html
    assert 'name="show" value="prospects"' in html  # "all that match" keeps the filter


def test_forecast_chart(world):
    p = world
    html = p.client(p.alice).get(URL).content.decode()
    chart = re.search(r'<svg class="chart".*?</svg>', html, re.S).group(0)
    assert chart.count('class="chart-bar"') == 12
    table = re.search(
        r'<table class="table visually-hidden" id="forecast-table">.*?</table>', html, re.S
    ).group(0)
    counts = [int(n) for n in re.findall(r"<td>(\d+)</td>", table)]
    assert len(counts) == 12 and counts[1] == 1 and sum(counts) == 1


def test_another_tenant_sees_only_its_own(world):
    p = world
    html = p.client(p.charlie).get(URL).content.decode()
    assert _count(html, "customers") == 1 and "Fjordvik Gammel" in html
    assert _count(html, "blocked") == 1 and "Fjordvik Ordre" in html
    assert "Gammal Ett" not in html and "Prospekt" not in html and "Tvist" not in html


def test_pagination(world, settings):
    p = world
    with tenant_context(p.tenant_a):
        for i in range(30):
            customer(f"Extra {i:02}", last=OLD)
    html = p.client(p.alice).get(URL).content.decode()
    assert _count(html, "customers") == 33
    assert "customers_page=2" in html
    page2 = p.client(p.alice).get(URL, {"customers_page": 2}).content.decode()
    assert len(re.findall(r'<tr id="customers-\d+">', page2)) == 8


def test_an_unknown_filter_shows_everyone(world):
    p = world
    response = p.client(p.alice).get(URL, {"show": "<script>", "customers_page": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert _count(html, "prospects") == 2 and _count(html, "customers") == 3


def test_queries_do_not_grow_with_the_rows(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    p = world
    client = p.client(p.alice)
    client.get(URL)  # warm the session and the tenant's caches
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    with tenant_context(p.tenant_a):
        for i in range(20):
            customer(f"Extra {i:02}", last=OLD)
            document(customer(f"Blockerad {i:02}", last=OLD), "case", status="open")
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)
