"""The Sales page and its CSV import: upload, a preview of every row, then all rows or none."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.actors import Actor
from audit.models import AuditEvent
from sales import import_files
from sales.imports import MAX_ROWS, REQUIRED
from sales.models import SalesDocument
from sales.services import sales_document_post
from sales.views import PAGE_SIZE
from tenancy.context import tenant_context
from tests.factories import make_customer

HEADER = ",".join(REQUIRED)


@pytest.fixture
def customers(personas):
    with tenant_context(personas.tenant_a):
        return make_customer(name="Första AB"), make_customer(name="Andra AB")


def count(tenant) -> int:
    with tenant_context(tenant):
        return SalesDocument.objects.count()


def post(customer, kind, number, **fields):
    values = {
        "date": dt.date(2026, 1, 10),
        "status": "open",
        "amount": Decimal("10.00"),
        "balance": Decimal("10.00"),
    }
    values.update(fields)
    return sales_document_post(
        customer=customer, kind=kind, number=number, actor=Actor.system("test"), **values
    )


def upload(client, text: str | bytes, name: str = "sales.csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post(reverse("sales-import"), {"file": SimpleUploadedFile(name, content)})


def csv_of(*lines: str, header: str = HEADER, sep: str = "\n") -> str:
    return sep.join([header, *lines]) + sep


def test_bad_rows_each_show_their_error_and_nothing_is_saved(personas, customers):
    first, second = customers
    with tenant_context(personas.tenant_a):
        post(second, "invoice", "TAKEN")  # another customer's invoice
        post(first, "invoice", "MINE")
    before = count(personas.tenant_a)
    text = csv_of(
        f"{first.number},invoice,A-1,2026-13-01,open,10,10",  # wrong date
        "999999,invoice,A-2,2026-01-02,open,10,10",  # unknown customer number
        f"{first.number},invoice,A-3,2026-01-03,open,-10,-10",  # negative invoice
        f"{first.number},credit_note,A-4,2026-01-04,open,-10,-10",  # negative credit: fine
        f"{first.number},invoice,A-5,2026-01-05,open,10,10",
        f"{first.number},invoice,A-5,2026-01-05,open,10,10",  # duplicate within the file
        f"{first.number},invoice,TAKEN,2026-01-06,open,10,10",  # another customer's number
        f"{first.number},invoice,MINE,2026-01-07,closed,10,0",  # an update: fine
        f"{first.number},invoice,A-6,2026-01-08,open,10,10,KRONOR",  # bad currency
        header=HEADER + ",currency",
    )
    client = personas.client(personas.bea)
    response = upload(client, text)
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    rows = {row.line: row for row in preview.context["preview"].rows}
    assert set(rows[2].errors) == {"date"}
    assert set(rows[3].errors) == {"customer_number"}
    assert set(rows[4].errors) == {"amount", "balance"}
    assert rows[5].ok and not rows[5].updates
    assert rows[6].ok and set(rows[7].errors) == {"number"}
    assert "line 6" in rows[7].errors["number"]
    assert set(rows[8].errors) == {"number"}
    assert rows[9].ok and rows[9].updates
    assert set(rows[10].errors) == {"currency"}
    assert preview.context["summary"] == {"new": 2, "updates": 1, "errors": 6}
    html = preview.content.decode()
    assert "Unknown customer number." in html
    assert f'action="{response["Location"]}"' not in html  # no confirm button
    # Confirming anyway saves nothing, not even the good rows.
    confirm = client.post(response["Location"])
    assert confirm.status_code == 200
    assert count(personas.tenant_a) == before
    with tenant_context(personas.tenant_a):
        assert SalesDocument.objects.get(number="MINE").status == "open"
        assert not AuditEvent.objects.filter(action="sales.documents_imported").exists()


def test_a_clean_file_is_previewed_then_saved_on_confirm(personas, customers):
    first, second = customers
    with tenant_context(personas.tenant_a):
        post(first, "invoice", "OLD")
    text = csv_of(
        f"{first.number},invoice,F-1,2026-02-01,open,100.00,100.00",
        f"{second.number},quote,Q-1,2026-01-15,closed,50,0",
        f"{first.number},invoice,OLD,2026-01-10,closed,10,0",
    )
    client = personas.client(personas.alice)
    response = upload(client, text)
    preview = client.get(response["Location"])
    assert preview.context["summary"] == {"new": 2, "updates": 1, "errors": 0}
    assert f'action="{response["Location"]}"' in preview.content.decode()
    assert count(personas.tenant_a) == 1  # the preview saved nothing
    done = client.post(response["Location"])
    assert done.status_code == 302 and done["Location"].endswith(reverse("sales-list"))
    with tenant_context(personas.tenant_a):
        assert SalesDocument.objects.count() == 3
        assert SalesDocument.objects.get(number="OLD").status == "closed"
        event = AuditEvent.objects.get(action="sales.documents_imported")
        assert event.data == {"created": 2, "updated": 1}
    # The upload is gone with the import: confirming twice is a 404.
    assert client.post(response["Location"]).status_code == 404


def test_one_bad_row_blocks_the_whole_file(personas, customers):
    first, _second = customers
    text = csv_of(
        f"{first.number},invoice,G-1,2026-02-01,open,10,10",
        f"{first.number},invoice,G-2,2026-02-31,open,10,10",
    )
    client = personas.client(personas.alice)
    response = upload(client, text)
    preview = client.get(response["Location"])
    assert not preview.context["preview"].ok
    assert "Import 2 rows" not in preview.content.decode()
    client.post(response["Location"])
    assert count(personas.tenant_a) == 0


def test_semicolon_windows_1252_from_excel(personas, customers):
    first, _second = customers
    header = ";".join([*REQUIRED, "currency", "customer_name"])
    text = csv_of(
        f"{first.number};invoice;W-1;2026-02-01;open;1 234,50;1 234,50;SEK;Åsa Östergård",
        header=header,
        sep="\r\n",
    )
    client = personas.client(personas.alice)
    response = upload(client, text.encode("cp1252"))
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert preview.context["preview"].ok
    client.post(response["Location"])
    with tenant_context(personas.tenant_a):
        document = SalesDocument.objects.get(number="W-1")
    assert document.customer_name == "Åsa Östergård"
    assert document.amount == Decimal("1234.50")


def test_utf8_with_bom_works(personas, customers):
    first, _second = customers
    text = "\ufeff" + csv_of(f"{first.number},invoice,B-1,2026-02-01,open,10,10")
    client = personas.client(personas.alice)
    response = upload(client, text)
    client.post(response["Location"])
    assert count(personas.tenant_a) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"number,kind\nX,invoice\n", "Columns missing"),
        (HEADER.encode() + b"\n", "The file has no rows."),
    ],
)
def test_an_unreadable_file_is_refused_on_the_upload_form(personas, content, message):
    response = upload(personas.client(personas.alice), content)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_too_large_a_file_is_refused(personas, settings):
    big = HEADER.encode() + b"\n" + b"x" * (5 * 1024 * 1024)
    response = upload(personas.client(personas.alice), big)
    assert response.status_code == 200
    assert "larger than 5 MB" in response.content.decode()


def test_the_template_has_the_header(personas):
    response = personas.client(personas.bea).get(reverse("sales-import-template"))
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").splitlines()[0].startswith(HEADER)


def test_another_session_cannot_use_the_token(personas, customers):
    first, _second = customers
    text = csv_of(f"{first.number},invoice,S-1,2026-02-01,open,10,10")
    response = upload(personas.client(personas.alice), text)
    other = personas.client(personas.bea)
    assert other.get(response["Location"]).status_code == 404
    assert other.post(response["Location"]).status_code == 404
    assert count(personas.tenant_a) == 0


def test_roles(personas):
    assert personas.client(personas.erik).get(reverse("sales-list")).status_code == 403
    staff = personas.client(personas.bob)
    assert staff.get(reverse("sales-list")).status_code == 200
    assert staff.get(reverse("sales-import")).status_code == 403
    assert "Import from CSV" not in staff.get(reverse("sales-list")).content.decode()
    nav = personas.client(personas.erik).get(reverse("home")).content.decode()
    assert reverse("sales-list") not in nav


def test_another_tenant_sees_none_of_a_documents(personas, customers):
    first, _second = customers
    with tenant_context(personas.tenant_a):
        post(first, "invoice", "SECRET-1")
    response = personas.client(personas.charlie).get(reverse("sales-list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert "SECRET-1" not in response.content.decode()


@pytest.fixture
def many(personas, customers):
    first, second = customers
    with tenant_context(personas.tenant_a):
        for i in range(PAGE_SIZE + 5):
            post(
                first if i % 2 else second,
                "invoice" if i % 3 else "quote",
                f"L{i:03}",
                date=dt.date(2026, 1, 1) + dt.timedelta(days=i),
                status="open" if i < 4 else "closed",
            )
    return first, second


def test_the_list_pages_searches_and_filters(personas, many):
    first, _second = many
    client = personas.client(personas.bob)
    response = client.get(reverse("sales-list"))
    html = response.content.decode()
    assert len(response.context["page"].object_list) == PAGE_SIZE
    assert "L029" in html and "L000" not in html  # newest first
    assert reverse("customer-sales", kwargs={"pk": first.pk}) in html
    assert "L000" in client.get(reverse("sales-list"), {"page": 2}).content.decode()

    def numbers(**query):
        found = client.get(reverse("sales-list"), query).context["page"].object_list
        return [document.number for document in found]

    assert numbers(q="l00", kind="quote", status="open") == ["L003", "L000"]
    assert numbers(q="Första", status="open") == ["L003", "L001"]
    assert numbers(q=first.number, kind="invoice", status="open") == ["L001"]
    assert numbers(kind="nonsense") != []  # a bad filter is ignored, not a 500


def test_more_rows_than_allowed_are_refused(personas, customers):
    first, _second = customers
    line = f"{first.number},invoice,R,2026-02-01,open,10,10"
    text = csv_of(*[line] * (MAX_ROWS + 1))
    response = upload(personas.client(personas.alice), text)
    assert response.status_code == 200
    assert f"At most {MAX_ROWS} rows per file." in response.content.decode()
    assert count(personas.tenant_a) == 0


def test_an_abandoned_upload_is_swept_by_the_next_one(personas, customers):
    first, _second = customers
    text = csv_of(f"{first.number},invoice,S-1,2026-02-01,open,10,10")
    response = upload(personas.client(personas.alice), text)
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    old = import_files._path(personas.tenant_a.pk, token)
    assert old.exists()
    os.utime(old, (0, 0))  # long ago
    upload(personas.client(personas.bea), text)
    assert not old.exists()
