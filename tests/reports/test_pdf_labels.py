"""PDF lists and A4 label sheets (issue 11): the files are opened with pypdf and read back
(pages, text, where the text stands), plus the label selection, the per-tenant layout, the
start position, the candidates reports, the audit entry, roles and tenant isolation."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer, CustomerStatus
from customers.services.addresses import address_add
from customers.services.contacts import contact_create
from reports import labels
from reports.models import ReportSettings
from reports.preferences import report_settings, report_settings_update
from sales.services import sales_document_post
from tenancy.context import tenant_context
from tests.factories import make_customer
from tests.tenant_urls import in_company

SYSTEM = Actor.system("test")
LABELS_URL = "/reports/export/labels/"
PDF_URL = "/reports/export/pdf/"


@dataclass
class World:
    p: object
    orsted: Customer  # two contacts; a postal address besides the head office
    sjoberg: Customer  # no contacts
    gone: Customer  # anonymized


@pytest.fixture
def world(personas) -> World:
    p = personas
    with tenant_context(p.tenant_a):
        orsted = make_customer(name="Ørsted Bygg AB", number="2001", email="info@orsted.se")
        address_add(
            customer=orsted,
            actor=SYSTEM,
            kind="visiting",
            line1="Industrivägen 3",
            postcode="171 48",
            city="Solna",
        )
        address_add(
            customer=orsted, actor=SYSTEM, kind="postal", line1="Box 99", postcode="101 10",
            city="Stockholm",
        )  # fmt: skip
        contact_create(customer=orsted, actor=SYSTEM, first_name="Åsa", last_name="Ørsted")
        contact_create(customer=orsted, actor=SYSTEM, first_name="Nils", last_name="Ek")
        sjoberg = make_customer(name="Sjöberg Måleri", number="2002", email="")
        address_add(
            customer=sjoberg,
            actor=SYSTEM,
            line1="Nørregade 4",
            postcode="1165",
            city="København K",
            country="DK",
        )
        gone = make_customer(name="Anonym Kund AB", number="2003")
        contact_create(customer=gone, actor=SYSTEM, first_name="Gunnar", last_name="Gömd")
        Customer.objects.filter(pk=gone.pk).update(status=CustomerStatus.ANONYMIZED)
    with tenant_context(p.tenant_b):
        make_customer(name="Fjordvik Kunde AS", number="2001", country="NO")
    return World(p=p, orsted=orsted, sjoberg=sjoberg, gone=gone)


def _pdf(response) -> PdfReader:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def _texts(page) -> list[tuple[str, float, float]]:
    """(text, x, y) of each piece of text on ``page``, in points."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((text.strip(), cm[4] + tm[4], cm[5] + tm[5]))

    page.extract_text(visitor_text=visit)
    return found


def _all_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _labels(world, user=None, **params):
    params.setdefault("report", "phones")
    return world.p.client(user or world.p.bob).get(LABELS_URL, params)


# --- Which labels --------------------------------------------------------------------------


def test_one_label_per_contact_or_one_without(world):
    with tenant_context(world.p.tenant_a):
        qs = labels.with_label_data(Customer.objects.filter(number__in=["2001", "2002"]))
        by_customer = {c.number: list(labels.label_rows(c)) for c in qs}
    assert [label.attention for label in by_customer["2001"]] == ["Nils Ek", "Åsa Ørsted"]
    assert [label.attention for label in by_customer["2002"]] == [""]
    # The postal address, not the head office (a visiting address).
    assert {label.line1 for label in by_customer["2001"]} == {"Box 99"}
    assert by_customer["2002"][0].city == "København K"


def test_the_mail_address_falls_back_to_the_head_office():
    visiting = labels.Address(kind="visiting", is_head_office=False, line1="V")
    office = labels.Address(kind="invoice", is_head_office=True, line1="H")
    postal = labels.Address(kind="postal", is_head_office=False, line1="P")
    assert labels.mail_address([office, visiting, postal]).line1 == "P"
    assert labels.mail_address([visiting, office]).line1 == "H"
    assert labels.mail_address([visiting]).line1 == "V"
    assert labels.mail_address([]) is None


def test_label_lines_show_a_foreign_country_only():
    label = labels.Label("1", "Sjöberg Måleri", "Åsa Ørsted", "Nørregade 4", "", "1165",
                         "København K", "DK")  # fmt: skip
    assert labels.label_lines(label, "SE") == [
        "Sjöberg Måleri",
        "Att: Åsa Ørsted",
        "Nørregade 4",
        "1165 København K",
        "DK",
    ]
    assert labels.label_lines(label, "DK")[-1] == "1165 København K"


def test_the_labels_report_on_screen(world):
    response = world.p.client(world.p.bob).get("/reports/", {"report": "labels", "sort": "number"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("Ørsted Bygg AB") == 2  # one row per contact
    assert "Åsa Ørsted" in body and "Nils Ek" in body and "Sjöberg Måleri" in body
    assert "Anonym Kund AB" not in body and "Gunnar" not in body


# --- The label sheet --------------------------------------------------------------------------


def test_label_sheet_pdf(world):
    reader = _pdf(_labels(world))
    assert len(reader.pages) == 1
    text = _all_text(reader)
    assert "Att: Åsa Ørsted" in text and "Att: Nils Ek" in text
    assert text.count("Ørsted Bygg AB") == 2  # one per contact
    assert text.count("Sjöberg Måleri") == 1  # no contacts: one label, no "Att:" line
    assert "Box 99" in text and "1165 København K" in text and "DK" in text
    assert "Anonym Kund AB" not in text and "Gömd" not in text  # anonymized: never
    assert "Fjordvik" not in text  # another tenant's
    with tenant_context(world.p.tenant_a):
        event = AuditEvent.objects.filter(action="reports.exported").latest("seq")
    assert event.data == {
        "report": "phones",
        "format": "labels",
        "count": 3,
        "complete": True,
        "filters": [],
    }


def test_label_sheet_of_the_could_not_reach_report(world):
    # Sjöberg: never asked, no email, no mobile. Ørsted has an email.
    text = _all_text(_pdf(_labels(world, report="unreachable")))
    assert "Sjöberg Måleri" in text and "Ørsted" not in text


def _name_positions(reader: PdfReader, name: str) -> list[tuple[int, float, float]]:
    return [
        (number, x, y)
        for number, page in enumerate(reader.pages)
        for text, x, y in _texts(page)
        if text == name
    ]


def _expected(grid: labels.Grid, row: int, col: int) -> tuple[float, float]:
    """Where a label's first line starts (see labels._draw)."""
    left, top = labels.origin(grid, row, col)
    return left + labels.PAD_X * mm, top - labels.PAD_Y * mm - labels.SIZE


def test_labels_fill_the_sheet_row_by_row(world):
    grid = labels.GRIDS["3x8"]
    reader = _pdf(_labels(world, sort="number"))
    ørsted = _name_positions(reader, "Ørsted Bygg AB")
    sjoberg = _name_positions(reader, "Sjöberg Måleri")
    expected = [_expected(grid, 0, 0), _expected(grid, 0, 1)]
    assert [(round(x, 1), round(y, 1)) for _p, x, y in ørsted] == [
        (round(x, 1), round(y, 1)) for x, y in expected
    ]
    (_page, x, y) = sjoberg[0]
    assert (round(x, 1), round(y, 1)) == tuple(round(v, 1) for v in _expected(grid, 0, 2))


def test_start_position_leaves_the_used_labels_empty(world):
    grid = labels.GRIDS["3x8"]
    reader = _pdf(_labels(world, sort="number", start_at="5"))
    first = _name_positions(reader, "Ørsted Bygg AB")[0]
    x, y = _expected(grid, 1, 1)  # position 5: the second row's middle label
    assert (first[0], round(first[1], 1), round(first[2], 1)) == (0, round(x, 1), round(y, 1))
    # Positions 1 to 4 are empty: no text at all above the second row's middle label.
    (_row1_left, row1_top) = labels.origin(grid, 1, 0)
    texts = _texts(reader.pages[0])
    assert all(ty < row1_top for _t, _x, ty in texts)
    assert not any(ty > y - 1 and tx < x - 1 for _t, tx, ty in texts)  # position 4 is empty


def test_start_position_near_the_end_continues_on_a_second_sheet(world):
    reader = _pdf(_labels(world, sort="number", start_at="23"))
    assert len(reader.pages) == 2
    grid = labels.GRIDS["3x8"]
    assert [p for p, _x, _y in _name_positions(reader, "Ørsted Bygg AB")] == [0, 0]
    (page, x, y) = _name_positions(reader, "Sjöberg Måleri")[0]
    assert page == 1
    assert (round(x, 1), round(y, 1)) == tuple(round(v, 1) for v in _expected(grid, 0, 0))


def test_position_function():
    grid = labels.GRIDS["2x7"]
    assert labels.position(grid, 0) == (0, 0, 0)
    assert labels.position(grid, 1) == (0, 0, 1)
    assert labels.position(grid, 2) == (0, 1, 0)
    assert labels.position(grid, 0, start=14) == (0, 6, 1)
    assert labels.position(grid, 1, start=14) == (1, 0, 0)


@pytest.mark.parametrize("start", ["0", "25", "-3", "x"])
def test_bad_start_position_is_a_field_error(world, start):
    client = world.p.client(world.p.bob)
    page = client.get("/reports/", {"report": "phones", "start_at": start})
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="report-rows"' not in body
    expected = "Enter a whole number." if start == "x" else "Enter a position from 1 to 24"
    assert expected in body
    export = client.get(LABELS_URL, {"report": "phones", "start_at": start})
    assert export.status_code == 400
    with tenant_context(world.p.tenant_a):
        assert not AuditEvent.objects.filter(action="reports.exported").exists()


def test_layout_per_tenant(world):
    alice = world.p.client(world.p.alice)
    response = alice.get("/reports/settings/")
    assert response.status_code == 200
    assert "2 x 7 labels of 99.1 x 38.1 mm" in response.content.decode()
    response = alice.post("/reports/settings/", {"label_layout": "2x7"})
    assert response.status_code == 302
    with tenant_context(world.p.tenant_a):
        assert report_settings().label_layout == "2x7"
        event = AuditEvent.objects.filter(action="reports.settings_changed").get()
        assert event.data == {"label_layout": "2x7"}
    with tenant_context(world.p.tenant_b):
        assert report_settings().label_layout == "3x8"  # B's own default, unchanged

    grid = labels.GRIDS["2x7"]
    reader = _pdf(_labels(world, sort="number"))
    ørsted = _name_positions(reader, "Ørsted Bygg AB")
    assert [(round(x, 1), round(y, 1)) for _p, x, y in ørsted] == [
        tuple(round(v, 1) for v in _expected(grid, 0, col)) for col in (0, 1)
    ]
    sjoberg = _name_positions(reader, "Sjöberg Måleri")[0]
    assert round(sjoberg[1], 1) == round(_expected(grid, 1, 0)[0], 1)  # the next row
    # 14 labels a sheet now: 15 is out of range, 14 is the last one.
    assert _labels(world, start_at="15").status_code == 400
    assert len(_pdf(_labels(world, start_at="14")).pages) == 2


def test_settings_form_refuses_an_unknown_layout(world):
    response = world.p.client(world.p.alice).post("/reports/settings/", {"label_layout": "9x9"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    with tenant_context(world.p.tenant_a):
        assert not ReportSettings.objects.exists()


def test_settings_service_refuses_an_unknown_layout(world):
    from django.core.exceptions import ValidationError

    with tenant_context(world.p.tenant_a), pytest.raises(ValidationError):
        report_settings_update(label_layout="9x9", actor=SYSTEM)


def test_the_settings_menu_links_the_page(world):
    body = world.p.client(world.p.alice).get("/settings/").content.decode()
    assert 'href="/t/nordljus/reports/settings/"' in body


# --- The PDF list ----------------------------------------------------------------------------


def test_pdf_list_heading_rows_and_page_numbers(world):
    with tenant_context(world.p.tenant_a):
        for i in range(70):
            make_customer(name=f"Kund {i:02d} Åkesson", number=f"3{i:03d}", phone="08-123 45 67")
    reader = _pdf(world.p.client(world.p.bob).get(PDF_URL, {"report": "phones"}))
    pages = len(reader.pages)
    assert pages >= 2
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (round(A4[0]), round(A4[1]))  # 6 columns: portrait
    for number, page in enumerate(reader.pages, start=1):
        text = " ".join(page.extract_text().split())  # a header may wrap in its cell
        assert "Phone list" in text and "Nordljus AB" in text
        assert "Customer number Name Phone Mobile Email City" in text  # on every page
        assert f"Page {number} of {pages}" in text
    assert "Status: Active" in reader.pages[0].extract_text()  # the selection
    text = _all_text(reader)
    assert "Ørsted Bygg AB" in text and "Sjöberg Måleri" in text and "Kund 69 Åkesson" in text
    assert "Anonym Kund AB" not in text and "Fjordvik" not in text
    # The total page count is a form XObject drawn on every page, filled in at the end.
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    form = next(iter(xobjects.values())).get_object()
    assert form.get_data().decode("latin-1").count("Tj") == 1
    with tenant_context(world.p.tenant_a):
        event = AuditEvent.objects.filter(action="reports.exported").latest("seq")
    assert event.data["format"] == "pdf" and event.data["count"] == 72


def test_pdf_list_is_landscape_when_wide(world):
    reader = _pdf(world.p.client(world.p.bob).get(PDF_URL, {"report": "addresses"}))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert width > height
    text = _all_text(reader)
    assert "Address list" in text and "Industrivägen 3" in text and "Page 1 of" in text


def test_pdf_list_of_nothing_is_one_page(world):
    params = {"report": "phones", "q": "no such customer anywhere"}
    reader = _pdf(world.p.client(world.p.bob).get(PDF_URL, params))
    assert len(reader.pages) == 1
    assert "No customers match the selection." in reader.pages[0].extract_text()


def test_pdf_money_and_dates_in_the_list(world):
    with tenant_context(world.p.tenant_a):
        sales_document_post(
            customer=world.orsted,
            kind="invoice",
            number="F-9",
            date=date(2020, 1, 10),
            status="open",
            amount=Decimal("1250.50"),
            balance=Decimal("1250.50"),
            actor=SYSTEM,
        )
        Customer.objects.filter(pk=world.orsted.pk).update(
            last_activity_at=datetime(2020, 1, 11, 12, tzinfo=UTC)
        )
    params = {"report": "inactive", "last_activity_before": "2024-01-01", "q": "Ørsted"}
    text = _all_text(_pdf(world.p.client(world.p.bea).get(PDF_URL, params)))
    assert "1,250.50" in text and "11 Jan 2020" in text  # config/formats/en


# --- Candidates ---------------------------------------------------------------------------


@pytest.fixture
def candidates(world):
    with tenant_context(world.p.tenant_a):
        Customer.objects.filter(pk=world.sjoberg.pk).update(
            last_activity_at=datetime(2010, 5, 1, 12, tzinfo=UTC)
        )
    return world


def test_anonymization_candidates(candidates):
    params = {"report": "anonymization"}
    response = candidates.p.client(candidates.p.bea).get("/reports/", params)
    body = response.content.decode()
    assert "Sjöberg Måleri" in body  # its period ended long ago, nothing blocks it
    assert "Ørsted Bygg AB" not in body  # created today: inside its period
    assert "The retention period for customers (7 years) has passed" in body
    assert '<time datetime="2018-01-01">' in body  # the day after 2010's fiscal year + 7
    text = _all_text(_pdf(candidates.p.client(candidates.p.bea).get(PDF_URL, params)))
    assert "Anonymization candidates" in text and "Sjöberg Måleri" in text


def test_deletion_candidates(candidates):
    with tenant_context(candidates.p.tenant_a):
        sales_document_post(
            customer=candidates.orsted,
            kind="invoice",
            number="F-1",
            date=date(2020, 1, 10),
            status="closed",
            amount=Decimal("10.00"),
            balance=Decimal("0.00"),
            actor=SYSTEM,
        )
    response = candidates.p.client(candidates.p.alice).get("/reports/", {"report": "deletion"})
    body = response.content.decode()
    assert "Sjöberg Måleri" in body  # nothing refers to it
    assert "Ørsted Bygg AB" not in body  # a sales document keeps it


@pytest.mark.parametrize("slug", ["anonymization", "deletion"])
def test_candidates_are_not_offered_to_office_staff(candidates, slug):
    client = candidates.p.client(candidates.p.bob)
    body = client.get("/reports/").content.decode()
    assert 'value="anonymization"' not in body and 'value="deletion"' not in body
    response = client.get("/reports/", {"report": slug})
    assert "Select a valid choice" in response.content.decode()
    assert "Sjöberg" not in response.content.decode()
    assert client.get(PDF_URL, {"report": slug}).status_code == 400


# --- Tenant isolation ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [LABELS_URL, PDF_URL, "/reports/settings/"])
def test_another_tenants_user_gets_404(world, path):
    charlie = world.p.client(world.p.charlie)
    response = charlie.get(in_company(world.p.tenant_a, path), {"report": "phones"})
    assert response.status_code == 404


def test_another_tenants_labels_hold_none_of_ours(world):
    reader = _pdf(_labels(world, user=world.p.charlie))
    text = _all_text(reader)
    assert "Fjordvik Kunde AS" in text
    assert "Ørsted" not in text and "Sjöberg" not in text


def test_report_settings_row_security_in_raw_sql(world):
    with (
        tenant_context(world.p.tenant_a),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # Tenant A's session writing a row for tenant B (which has none): refused.
        cursor.execute(
            "INSERT INTO reports_reportsettings (tenant_id, label_layout, updated_at) "
            "VALUES (%s, '2x7', now())",
            [world.p.tenant_b.pk],
        )
    with tenant_context(world.p.tenant_a):
        report_settings_update(label_layout="3x7", actor=SYSTEM)
    with tenant_context(world.p.tenant_b):
        report_settings_update(label_layout="2x7", actor=SYSTEM)

    def raw() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT label_layout FROM reports_reportsettings")
            return {row[0] for row in cursor.fetchall()}

    with tenant_context(world.p.tenant_a):
        assert raw() == {"3x7"}
    with tenant_context(world.p.tenant_b):
        assert raw() == {"2x7"}
    with transaction.atomic():
        assert raw() == set()  # no tenant: no rows
