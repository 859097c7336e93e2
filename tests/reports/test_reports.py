"""The Reports page (issue 11): each report's rows and columns over a small world, the
selections, the CSV and Excel files, the audit entry, roles and tenant isolation."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.http import QueryDict

from audit.actors import Actor
from audit.models import AuditEvent
from consent.services import (
    consent_record,
    consent_request_create,
    consent_request_mark_delivery,
    consent_terms_publish,
)
from customers.models import Customer, CustomerStatus
from customers.services.addresses import address_add, head_office_change
from customers.services.customers import customer_set_status
from customers.services.selections import saved_list_save
from reports import export_sources
from reports.definitions import REPORTS
from reports.exports import stream_export
from sales.services import sales_document_post
from tenancy.context import tenant_context
from tenancy.models import Membership
from tests.factories import ReferenceEntryFactory, make_customer

SYSTEM = Actor.system("test")
URL = "/reports/"


@dataclass
class World:
    p: object
    oster: Customer
    soren: Customer
    ahl: Customer
    dahl: Customer
    norr: object


def _activity(customer: Customer, when: datetime | None) -> None:
    Customer.objects.filter(pk=customer.pk).update(last_activity_at=when)


@pytest.fixture
def world(personas) -> World:
    p = personas
    with tenant_context(p.tenant_a):
        norr = ReferenceEntryFactory(register="district", code="N", name="Norr")
        consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=SYSTEM)
        oster = make_customer(
            name="Östergård Bygg AB",
            number="1001",
            email="info@ostergard.se",
            phone="08-123 45 67",
            district=norr,
        )
        # The head office is the second address: the report still lists it first.
        address_add(
            customer=oster,
            actor=SYSTEM,
            kind="delivery",
            line1="Lagervägen 9",
            postcode="212 15",
            city="Malmö",
        )
        office = address_add(
            customer=oster,
            actor=SYSTEM,
            line1="Storgatan 1",
            line2="Box 7",
            postcode="211 34",
            city="Malmö",
        )
        head_office_change(address=office, actor=SYSTEM)
        sales_document_post(
            customer=oster,
            kind="invoice",
            number="F-1",
            date=date(2020, 1, 10),
            status="open",
            amount=Decimal("1250.50"),
            balance=Decimal("1250.50"),
            actor=SYSTEM,
        )
        sales_document_post(
            customer=oster,
            kind="invoice",
            number="F-2",
            date=date(2020, 1, 11),
            status="closed",
            amount=Decimal("99.00"),
            balance=Decimal("0.00"),
            actor=SYSTEM,
        )
        _activity(oster, datetime(2020, 1, 11, 12, tzinfo=UTC))
        # Never asked, no email, no mobile: to write to by post.
        soren = make_customer(
            name="Sørensen & Søn ApS",
            number="1002",
            email="",
            phone="+45 33 12 34 56",
            country="DK",
        )
        address_add(
            customer=soren,
            actor=SYSTEM,
            line1="Nørregade 4",
            postcode="1165",
            city="København K",
            country="DK",
        )
        # Asked by email; the request failed.
        ahl = make_customer(
            name="Åhléns Handel", number="1003", email="order@ahlens.se", mobile="070-111 22 33"
        )
        request, _token = consent_request_create(
            customer=ahl, channel="email", language="sv", actor=SYSTEM
        )
        consent_request_mark_delivery(request=request, status="failed", actor=SYSTEM)
        _activity(ahl, datetime(2025, 6, 1, tzinfo=UTC))
        # No email or mobile, but gave consent in the shop: was asked.
        dahl = make_customer(name="Dahl Måleri", number="1004", email="")
        consent_record(
            customer=dahl,
            decision="granted",
            method="manual",
            how="in_person",
            actor=SYSTEM,
            language="sv",
            terms_version=1,
        )
        _activity(dahl, datetime(2026, 11, 1, tzinfo=UTC))
    with tenant_context(p.tenant_b):
        fjord = make_customer(name="Fjordvik Kunde AS", number="1001", email="", country="NO")
        _activity(fjord, None)
    return World(p=p, oster=oster, soren=soren, ahl=ahl, dahl=dahl, norr=norr)


def _get(world, user, **params):
    return world.p.client(user).get(URL, params)


def _rows(response) -> list[list[str]]:
    """The on-screen table's rows as texts."""
    import re
    from html import unescape

    body = response.content.decode()
    table = body[body.index('id="report-rows"') : body.index("</table>")]
    tbody = table[table.index("<tbody>") :]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", tbody, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def _headers(response) -> list[str]:
    import re
    from html import unescape

    body = response.content.decode()
    table = body[body.index('id="report-rows"') : body.index("</thead>")]
    return [
        unescape(re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)
    ]


def _csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def _xlsx(response):
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


# --- the reports ------------------------------------------------------------------------


def test_the_page_offers_every_report(world):
    response = _get(world, world.p.bob)
    assert response.status_code == 200
    body = response.content.decode()
    for report in REPORTS.values():
        if report.perm is None:  # the candidates reports: roles that may anonymize/delete
            assert str(report.label) in body
    assert 'id="report-rows"' not in body  # nothing shown before a report is picked


def test_address_list_every_address_head_office_first(world):
    response = _get(world, world.p.bob, report="addresses", sort="number")
    assert _headers(response) == [
        "Customer number",
        "Name",
        "Address kind",
        "Head office",
        "Address line 1",
        "Address line 2",
        "Postcode",
        "City",
        "Country",
    ]
    rows = _rows(response)
    assert rows == [
        [
            "1001",
            "Östergård Bygg AB",
            "Postal address",
            "Yes",
            "Storgatan 1",
            "Box 7",
            "211 34",
            "Malmö",
            "SE",
        ],
        [
            "1001",
            "Östergård Bygg AB",
            "Delivery address",
            "No",
            "Lagervägen 9",
            "",
            "212 15",
            "Malmö",
            "SE",
        ],
        [
            "1002",
            "Sørensen & Søn ApS",
            "Postal address",
            "Yes",
            "Nørregade 4",
            "",
            "1165",
            "København K",
            "DK",
        ],
        ["1003", "Åhléns Handel", "", "", "", "", "", "", ""],  # no address: one row
        ["1004", "Dahl Måleri", "", "", "", "", "", "", ""],
    ]


def test_phone_list(world):
    response = _get(world, world.p.bob, report="phones", sort="name")
    assert _headers(response) == ["Customer number", "Name", "Phone", "Mobile", "Email", "City"]
    assert _rows(response) == [
        ["1004", "Dahl Måleri", "", "", "", ""],
        ["1002", "Sørensen & Søn ApS", "+45 33 12 34 56", "", "", "København K"],
        ["1003", "Åhléns Handel", "", "070-111 22 33", "order@ahlens.se", ""],
        ["1001", "Östergård Bygg AB", "08-123 45 67", "", "info@ostergard.se", "Malmö"],
    ]


def test_inactive_customers_with_balance_for_finance(world):
    params = {"report": "inactive", "last_activity_before": "2024-01-01", "sort": "number"}
    response = _get(world, world.p.bea, **params)  # bookkeeper: finance.view
    headers = _headers(response)
    assert headers == [
        "Customer number",
        "Name",
        "Last activity",
        "Open balance",
        "Phone",
        "Email",
        "City",
    ]
    rows = _rows(response)
    # Never active counts as inactive (the customer list's rule); later activity does not.
    assert [r[0] for r in rows] == ["1001", "1002"]
    assert rows[0][2] == "11 Jan 2020"  # the short date format of the language (en here)
    assert '<time datetime="2020-01-11">' in response.content.decode()
    assert rows[0][3] == "1,250.50"  # open documents only
    assert rows[1][2] == "—" and rows[1][3] == "0.00"
    assert "Last activity before" in response.content.decode()


def test_inactive_customers_hide_the_balance_from_staff(world):
    params = {"report": "inactive", "last_activity_before": "2024-01-01"}
    response = _get(world, world.p.bob, **params)
    assert "Open balance" not in _headers(response)
    assert "1,250.50" not in response.content.decode()
    rows = _csv(world.p.client(world.p.bob).get("/reports/export/csv/", params))
    assert "Open balance" not in rows[0] and not any("1250.50" in r for r in rows)
    sheet = _xlsx(world.p.client(world.p.bob).get("/reports/export/xlsx/", params)).active
    assert "Open balance" not in [c.value for c in sheet[1]]


def test_inactive_needs_a_date(world):
    response = _get(world, world.p.bob, report="inactive")
    assert response.status_code == 200
    assert 'id="report-rows"' not in response.content.decode()
    assert "Pick a date" in response.content.decode()


def test_could_not_reach_both_ways(world):
    response = _get(world, world.p.bob, report="unreachable", sort="number")
    rows = _rows(response)
    assert [r[:3] for r in rows] == [
        ["1002", "Sørensen & Søn ApS", "Never asked; no email or mobile"],
        ["1003", "Åhléns Handel", "Every consent request failed"],
    ]
    assert rows[0][3:] == ["Nørregade 4", "", "1165", "København K", "DK"]
    # Östergård has an email (never asked, but reachable); Dahl was asked in the shop.


def test_could_not_reach_drops_a_customer_once_a_request_gets_through(world):
    from consent.models import ConsentRequest

    with tenant_context(world.p.tenant_a):
        # A second request that was delivered: the customer can be reached after all.
        request, _token = consent_request_create(
            customer=world.ahl, channel="email", language="sv", actor=SYSTEM
        )
        ConsentRequest.objects.filter(pk=request.pk).update(status="delivered")
    rows = _rows(_get(world, world.p.bob, report="unreachable"))
    assert [r[0] for r in rows] == ["1002"]


def test_consent_status_list(world):
    response = _get(world, world.p.bob, report="consent", sort="number")
    assert _headers(response) == [
        "Customer number",
        "Name",
        "Consent",
        "Decided",
        "Method",
        "Email",
        "Mobile",
    ]
    rows = {r[0]: r for r in _rows(response)}
    assert rows["1001"][2] == "No consent"
    assert rows["1003"][2] == "Consent requested"
    assert rows["1004"][2:5] == ["Consent approved", rows["1004"][3], "Manually by staff"]
    assert rows["1004"][3]  # a date


# --- selections -------------------------------------------------------------------------


def _numbers(world, user=None, **params) -> list[str]:
    rows = _rows(_get(world, user or world.p.bob, report="phones", sort="number", **params))
    return [r[0] for r in rows]


def test_selections(world):
    assert _numbers(world) == ["1001", "1002", "1003", "1004"]
    assert _numbers(world, q="ostergard") == ["1001"]  # the list's search
    assert _numbers(world, district=world.norr.pk) == ["1001"]  # the list's filters
    assert _numbers(world, last_activity_before="2025-01-01") == ["1001", "1002"]
    assert _numbers(world, consent="granted") == ["1004"]
    assert _numbers(world, never_asked="on") == ["1001", "1002"]
    assert _numbers(world, no_email="on") == ["1002", "1004"]
    assert _numbers(world, no_mobile="on") == ["1001", "1002", "1004"]
    assert _numbers(world, no_email="on", never_asked="on") == ["1002"]


def test_status_selection(world):
    with tenant_context(world.p.tenant_a):
        customer_set_status(customer=world.dahl, status=CustomerStatus.INACTIVE, actor=SYSTEM)
    assert _numbers(world) == ["1001", "1002", "1003"]
    assert _numbers(world, status="inactive") == ["1004"]
    assert _numbers(world, status="all") == ["1001", "1002", "1003", "1004"]


def test_saved_list_selection(world):
    with tenant_context(world.p.tenant_a):
        saved = saved_list_save(user=world.p.bob, name="Norr", filters={"district": world.norr.pk})
        private = saved_list_save(user=world.p.alice, name="Mine", filters={"district": 0})
    assert _numbers(world, saved_list=saved.pk) == ["1001"]
    # Another user's own list is no choice.
    response = _get(world, world.p.bob, report="phones", saved_list=private.pk)
    assert 'id="report-rows"' not in response.content.decode()


# --- files ------------------------------------------------------------------------------


def test_csv_export_streams_the_report(world):
    client = world.p.client(world.p.bob)
    response = client.get("/reports/export/csv/", {"report": "phones", "sort": "number"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="phones-' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    rows = _csv(response)
    assert rows[0] == ["Customer number", "Name", "Phone", "Mobile", "Email", "City"]
    assert rows[1] == [
        "1001",
        "Östergård Bygg AB",
        "08-123 45 67",
        "",
        "info@ostergard.se",
        "Malmö",
    ]
    assert len(rows) == 5


def test_csv_defuses_formulas(world):
    with tenant_context(world.p.tenant_a):
        evil = make_customer(name="=cmd|' /C calc'!A0", number="2001", email="")
        # Numbers typed before they were checked can hold anything.
        Customer.objects.filter(pk=evil.pk).update(phone="+1+1", mobile="-2+3")
        address_add(customer=evil, actor=SYSTEM, line1="@SUM(A1)", city="\t=1+1")
    client = world.p.client(world.p.bob)
    rows = _csv(client.get("/reports/export/csv/", {"report": "phones", "q": "2001"}))
    assert rows[1][1:4] == ["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3"]
    assert rows[1][5] == "'\t=1+1"
    rows = _csv(client.get("/reports/export/csv/", {"report": "addresses", "q": "2001"}))
    assert rows[1][4] == "'@SUM(A1)"
    sheet = _xlsx(client.get("/reports/export/xlsx/", {"report": "phones", "q": "2001"})).active
    assert sheet["B2"].value == "'=cmd|' /C calc'!A0"
    assert sheet["B2"].data_type == "s"


def test_xlsx_typed_cells_frozen_header_autofilter(world):
    client = world.p.client(world.p.bea)
    params = {"report": "inactive", "last_activity_before": "2024-01-01", "sort": "number"}
    response = client.get("/reports/export/xlsx/", params)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = _xlsx(response).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G3"
    assert [c.value for c in sheet[1]] == [
        "Customer number",
        "Name",
        "Last activity",
        "Open balance",
        "Phone",
        "Email",
        "City",
    ]
    assert all(c.font.bold for c in sheet[1])
    assert sheet["A2"].value == "1001"
    assert sheet["C2"].is_date and sheet["C2"].value.date() == date(2020, 1, 11)
    assert sheet["D2"].data_type == "n" and sheet["D2"].value == pytest.approx(1250.50)
    assert sheet["D2"].number_format == "#,##0.00"
    assert sheet["C3"].value is None  # never active


def test_export_is_audited_without_personal_data(world):
    client = world.p.client(world.p.bob)
    params = {"report": "addresses", "q": "Östergård", "district": world.norr.pk}
    response = client.get("/reports/export/csv/", params)
    with tenant_context(world.p.tenant_a):
        before = AuditEvent.objects.filter(action="reports.exported").count()
    _csv(response)  # the entry is written when the stream ends
    with tenant_context(world.p.tenant_a):
        events = AuditEvent.objects.filter(action="reports.exported")
        assert events.count() == before + 1
        event = events.latest("seq")
    assert event.actor_type == "user" and event.actor_id == str(world.p.bob.pk)
    assert event.object_type == "report" and event.object_id == "addresses"
    assert event.data == {
        "report": "addresses",
        "format": "csv",
        "count": 2,  # Östergård's two addresses
        "complete": True,
        "filters": ["district", "q"],
    }
    assert "Östergård" not in str(event.data) and "Malmö" not in str(event.data)
    # The audit page shows it like any other entry.
    page = world.p.client(world.p.alice).get("/audit/")
    assert "reports.exported" in page.content.decode()


def test_a_download_cut_off_is_audited_as_incomplete(world):
    """The inline path as the export view takes it: the plan, then the streamed file."""
    with tenant_context(world.p.tenant_a):
        membership = Membership.objects.get(user=world.p.bob, tenant=world.p.tenant_a)
        _form, plan = export_sources.plan(
            export_sources.REPORT,
            fmt="csv",
            criteria=QueryDict("report=phones"),
            key="",
            user=world.p.bob,
            membership=membership,
            tenant=world.p.tenant_a,
        )
    stream = stream_export(
        tenant=world.p.tenant_a,
        actor=Actor.user(world.p.bob),
        language="en",
        write=plan.write,
        record=plan.record,
    )
    next(stream), next(stream)  # the header and one row
    stream.close()  # the client went away: the server closes the response
    with tenant_context(world.p.tenant_a):
        event = AuditEvent.objects.filter(action="reports.exported").latest("seq")
    assert event.data["complete"] is False
    assert event.data["count"] == 1


# --- roles and tenants ------------------------------------------------------------------


def test_employee_may_not(world):
    client = world.p.client(world.p.erik)
    assert client.get(URL).status_code == 403
    assert client.get("/reports/export/csv/", {"report": "phones"}).status_code == 403


def test_reports_never_show_another_tenant(world):
    with tenant_context(world.p.tenant_b):  # old enough to be an anonymization candidate
        Customer.objects.update(created_at=datetime(2010, 1, 1, tzinfo=UTC))
    # Charlie (tenant B) sees only B's customer; A's never.
    for slug in REPORTS:
        params = {"report": slug, "last_activity_before": "2030-01-01", "status": "all"}
        response = _get(world, world.p.charlie, **params)
        assert response.status_code == 200
        assert [r[0] for r in _rows(response)] == ["1001"], slug
        assert "Östergård" not in response.content.decode()
        rows = _csv(world.p.client(world.p.charlie).get("/reports/export/csv/", params))
        assert [r[1] for r in rows[1:]] == ["Fjordvik Kunde AS"], slug
    # And tenant A's reports never show B's.
    for slug in REPORTS:
        params = {"report": slug, "last_activity_before": "2030-01-01", "status": "all"}
        assert "Fjordvik Kunde" not in _get(world, world.p.alice, **params).content.decode()


def test_another_tenants_company_url_is_404(world):
    from django.test import Client

    client = Client()
    client.force_login(world.p.charlie)
    assert client.get("/t/nordljus/reports/", {"report": "phones"}).status_code == 404
    assert client.get("/t/nordljus/reports/export/csv/", {"report": "phones"}).status_code == 404


def test_print_view_and_pages(world, monkeypatch):
    from reports import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first = _get(world, world.p.bob, report="phones", sort="number")
    assert [r[0] for r in _rows(first)] == ["1001", "1002"]
    assert 'rel="next"' in first.content.decode()
    second = _get(world, world.p.bob, report="phones", sort="number", page=2)
    assert [r[0] for r in _rows(second)] == ["1003", "1004"]
    printed = _get(world, world.p.bob, report="phones", sort="number", print=1)
    body = printed.content.decode()
    assert [r[0] for r in _rows(printed)] == ["1001", "1002", "1003", "1004"]
    assert 'rel="next"' not in body and 'name="report"' not in body  # no pager, no form
    assert "data-print" in body


def test_export_with_a_wrong_selection_is_400_and_not_audited(world):
    client = world.p.client(world.p.bob)
    with tenant_context(world.p.tenant_a):
        before = AuditEvent.objects.filter(action="reports.exported").count()
    assert client.get("/reports/export/csv/", {"report": "nonsense"}).status_code == 400
    assert client.get("/reports/export/xlsx/", {"report": "inactive"}).status_code == 400
    with tenant_context(world.p.tenant_a):
        assert AuditEvent.objects.filter(action="reports.exported").count() == before


def test_nav_entry_only_for_reports_view(world):
    assert 'href="/t/nordljus/reports/"' in _get(world, world.p.bob).content.decode()
    home = world.p.client(world.p.erik).get("/")
    assert "/reports/" not in home.content.decode()
