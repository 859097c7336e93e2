"""CSV import of sales documents: a preview with per-row errors, then all rows or none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer
from sales.imports import sales_import, sales_import_preview
from sales.models import SalesDocument
from sales.services import sales_document_post
from tenancy.context import tenant_context
from tests.factories import make_customer

SYSTEM = Actor.system("test")
HEADER = "customer_number,kind,number,date,status,amount,balance\n"


@pytest.fixture
def customers(personas):
    with tenant_context(personas.tenant_a):
        yield make_customer(name="Första AB"), make_customer(name="Andra AB")


def csv(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


def test_a_good_file_saves_every_row(customers):
    first, second = customers
    data = csv(
        f"{first.number},invoice,F-1,2026-02-01,open,100.00,100.00",
        f"{first.number},quote,Q-1,2026-01-15,closed,50,0",
        f"{second.number},credit_note,K-1,2026-02-03,open,-20.50,-20.50",
    )
    preview = sales_import_preview(data)
    assert preview.ok
    assert not SalesDocument.objects.exists()  # the preview saved nothing
    _preview, created, updated = sales_import(data=data, actor=SYSTEM)
    assert (created, updated) == (3, 0)
    assert SalesDocument.objects.count() == 3
    first.refresh_from_db()
    assert first.last_activity_at is not None
    assert AuditEvent.objects.filter(action="sales.documents_imported").count() == 1


def test_a_row_of_a_posted_number_updates_it(customers):
    first, _second = customers
    sales_document_post(
        customer=first,
        kind="invoice",
        number="F-1",
        date=dt.date(2026, 2, 1),
        status="open",
        amount=Decimal("100.00"),
        balance=Decimal("100.00"),
        actor=SYSTEM,
    )
    data = csv(f"{first.number},invoice,F-1,2026-02-01,closed,100.00,0.00")
    preview = sales_import_preview(data)
    assert preview.ok and preview.rows[0].updates
    _preview, created, updated = sales_import(data=data, actor=SYSTEM)
    assert (created, updated) == (0, 1)
    assert SalesDocument.objects.get().status == "closed"


def test_semicolons_and_decimal_commas(customers):
    first, _second = customers
    data = (
        "Customer_Number;Kind;Number;Date;Status;Amount;Balance;Currency\n"
        f"{first.number};invoice;F-9;2026-02-01;open;1 234,50;1 234,50;eur\n"
    )
    _preview, created, _updated = sales_import(data=data.encode("utf-8-sig"), actor=SYSTEM)
    assert created == 1
    document = SalesDocument.objects.get()
    assert (document.amount, document.currency) == (Decimal("1234.50"), "EUR")


BAD_ROWS = [
    ("{n},invoice,F-2,2026-13-01,open,1,1", "date"),
    ("{n},invoice,F-2,31.02.2026,open,1,1", "date"),
    ("99999,invoice,F-2,2026-02-01,open,1,1", "customer_number"),
    ("{n},invoice,F-2,2026-02-01,open,-5,-5", "amount"),
    ("{n},invoice,F-2,2026-02-01,open,5,-5", "balance"),
    ("{n},invoice,F-2,2026-02-01,open,abc,1", "amount"),
    ("{n},receipt,F-2,2026-02-01,open,1,1", "kind"),
    ("{n},invoice,F-1,2026-02-01,open,1,1", "number"),  # duplicate of the good row
]


@pytest.mark.parametrize(("line", "field"), BAD_ROWS)
def test_one_bad_row_saves_nothing(customers, line, field):
    first, _second = customers
    data = csv(f"{first.number},invoice,F-1,2026-02-01,open,1,1", line.format(n=first.number))
    preview = sales_import_preview(data)
    assert not preview.ok
    assert [row.line for row in preview.error_rows] == [3]
    assert field in preview.error_rows[0].errors
    audits = AuditEvent.objects.count()
    result, created, updated = sales_import(data=data, actor=SYSTEM)
    assert (created, updated) == (0, 0)
    assert not result.ok
    assert not SalesDocument.objects.exists()
    assert AuditEvent.objects.count() == audits
    first.refresh_from_db()
    assert first.last_activity_at is None


def test_another_customers_number_is_a_row_error(customers):
    first, second = customers
    sales_document_post(
        customer=first,
        kind="invoice",
        number="F-1",
        date=dt.date(2026, 2, 1),
        status="open",
        amount=Decimal("1.00"),
        balance=Decimal("1.00"),
        actor=SYSTEM,
    )
    preview = sales_import_preview(csv(f"{second.number},invoice,F-1,2026-02-01,open,1,1"))
    assert "number" in preview.rows[0].errors


def test_another_tenants_customer_number_is_unknown(personas, customers):
    with tenant_context(personas.tenant_b):
        foreign = make_customer(name="Utland AS")
        # A number tenant A does not have (both number series start alike).
        Customer.objects.filter(pk=foreign.pk).update(number="B-777")
    preview = sales_import_preview(csv("B-777,invoice,F-1,2026-02-01,open,1,1"))
    assert "customer_number" in preview.rows[0].errors


@pytest.mark.parametrize(
    "data",
    [
        "",
        "kind,number\ninvoice,1\n",
        HEADER,
        b"\xff\xfe\x00garbage",
    ],
)
def test_unusable_files_are_file_errors(customers, data):
    preview = sales_import_preview(data)
    assert preview.errors and not preview.rows
    assert sales_import(data=data, actor=SYSTEM)[1:] == (0, 0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-02-01", dt.date(2026, 2, 1)),
        ("01.02.2026", dt.date(2026, 2, 1)),  # Norwegian Excel
        ("01-02-2026", dt.date(2026, 2, 1)),  # Danish Excel
        (" 1/2/2026 ", dt.date(2026, 2, 1)),
        ("29.02.2024", dt.date(2024, 2, 29)),
        ("29.02.2026", None),  # no such day
        ("02/13/2026", None),  # month first is never read
        ("2026/02/01", None),
        ("1 februari", None),
    ],
)
def test_dates_as_nordic_spreadsheets_write_them(raw, expected):
    from sales.imports import _date

    assert _date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.50", Decimal("1234.50")),
        ("1234,50", Decimal("1234.50")),
        ("1 234,50", Decimal("1234.50")),
        ("1\u00a0234,50", Decimal("1234.50")),
        ("1.234,50", Decimal("1234.50")),  # Danish / Norwegian thousands
        ("1,234.50", Decimal("1234.50")),
        ("-1.234,50", Decimal("-1234.50")),
        ("1,2,3", None),
        ("abc", None),
        ("NaN", None),
    ],
)
def test_amounts_as_nordic_spreadsheets_write_them(raw, expected):
    from sales.imports import _amount

    assert _amount(raw) == expected
