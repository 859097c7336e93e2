"""CSV import of sales documents: a preview with every row's errors, then all rows or none.

The file has a header row; columns (any order, case-insensitive): ``customer_number``,
``kind``, ``number``, ``date`` (YYYY-MM-DD), ``status``, ``amount``, ``balance``, and
optionally ``currency`` and the snapshot columns (``customer_name``, ``line1``, ``line2``,
``postcode``, ``city``, ``country``). UTF-8 (with or without BOM) or Windows-1252, comma or
semicolon separated; amounts may use a
decimal comma and spaces between thousands ("1 234,50"). A row whose kind and number are
already posted updates that document, as a second API post does.

``sales_import_preview`` saves nothing. ``sales_import`` checks again and saves every row
in one transaction, or, when any row has an error, nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from customers.models import Customer

from .models import SalesDocument
from .services import SNAPSHOT_FIELDS, sales_document_post, validate_document

REQUIRED = ("customer_number", "kind", "number", "date", "status", "amount", "balance")
OPTIONAL = ("currency", *SNAPSHOT_FIELDS)
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class ImportRow:
    line: int  # the line in the file (the header is line 1)
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    customer: Customer | None = None
    updates: bool = False  # the kind and number are posted already: this row updates it

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    errors: list[str] = field(default_factory=list)  # errors of the file as a whole

    @property
    def ok(self) -> bool:
        return not self.errors and all(row.ok for row in self.rows)

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.ok]


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 5 MB."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Excel in the Nordics saves "CSV" as Windows-1252.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is neither UTF-8 nor Windows-1252 text.")) from None


# Day-first dates as Danish and Norwegian Excel write them; Swedish Excel writes ISO dates.
_DAY_FIRST = re.compile(r"(\d{1,2})[.\-/](\d{1,2})[.\-/](\d{4})")


def _date(raw: str) -> dt.date | None:
    """YYYY-MM-DD, or day first: 01.02.2026, 01-02-2026, 01/02/2026 (never month first)."""
    text = raw.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = _DAY_FIRST.fullmatch(text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _amount(raw: str) -> Decimal | None:
    """1234.50, 1234,50, 1 234,50, 1.234,50 or 1,234.50: the last separator is the decimal one."""
    text = raw.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _read(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """The rows as dicts of the known columns, and errors of the file as a whole."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return [], [_("The file is empty.")]
    except csv.Error:
        return [], [_("The file is not readable as CSV.")]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return [], [_("Columns missing: %(names)s.") % {"names": ", ".join(missing)}]
    known = [(index, name) for index, name in enumerate(header) if name in REQUIRED + OPTIONAL]
    rows = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                return [], [_("At most %(n)d rows per file.") % {"n": MAX_ROWS}]
            rows.append({name: cells[i] if i < len(cells) else "" for i, name in known})
    except csv.Error:
        return [], [_("The file is not readable as CSV.")]
    if not rows:
        return [], [_("The file has no rows.")]
    return rows, []


def _check_row(
    row: ImportRow, *, customers: dict[str, Customer], existing: dict, seen: dict
) -> dict | None:
    """The row's service arguments, or None with its errors in ``row.errors``."""
    values = row.values
    errors: dict[str, str] = {}
    customer = customers.get(values["customer_number"].strip())
    if customer is None:
        errors["customer_number"] = _("Unknown customer number.")
    date = _date(values["date"])
    if date is None:
        errors["date"] = _("Enter a date as YYYY-MM-DD or DD.MM.YYYY.")
    amounts = {}
    for name in ("amount", "balance"):
        amounts[name] = _amount(values[name])
        if amounts[name] is None:
            errors[name] = _("Enter a number.")
    kind, number = values["kind"].strip().lower(), values["number"].strip()
    snapshot = {name: values[name].strip() for name in SNAPSHOT_FIELDS if values.get(name)}
    if "country" in snapshot:
        snapshot["country"] = snapshot["country"].upper()
    arguments = {
        "customer": customer,
        "kind": kind,
        "number": number,
        "date": date,
        "status": values["status"].strip().lower(),
        "currency": values.get("currency", "").strip().upper() or None,
        **amounts,
        **snapshot,
    }
    if not errors:
        errors.update(validate_document(**arguments))
    if number and (kind, number) in seen:
        line = seen[(kind, number)]
        errors.setdefault("number", _("Also on line %(line)d of this file.") % {"line": line})
    elif number:
        seen[(kind, number)] = row.line
    owner = existing.get((kind, number))
    row.updates = owner is not None
    if owner is not None and customer is not None and owner != customer.pk:
        errors.setdefault("number", _("This document number belongs to another customer."))
    row.customer = customer
    row.errors = errors
    return None if errors else arguments


def sales_import_preview(data: bytes | str) -> ImportPreview:
    """Every row checked, nothing saved."""
    preview, _arguments = _check(data)
    return preview


def _check(data: bytes | str) -> tuple[ImportPreview, list[dict]]:
    try:
        text = _decode(data)
    except ValidationError as exc:
        return ImportPreview(rows=[], errors=exc.messages), []
    raw_rows, file_errors = _read(text)
    if file_errors:
        return ImportPreview(rows=[], errors=file_errors), []
    numbers = {row["customer_number"].strip() for row in raw_rows}
    customers = {c.number: c for c in Customer.objects.filter(number__in=numbers)}
    existing = {
        (d["kind"], d["number"]): d["customer_id"]
        for d in SalesDocument.objects.filter(
            number__in={row["number"].strip() for row in raw_rows}
        ).values("kind", "number", "customer_id")
    }
    rows, arguments, seen = [], [], {}
    for line, values in enumerate(raw_rows, start=2):
        row = ImportRow(line=line, values=values)
        checked = _check_row(row, customers=customers, existing=existing, seen=seen)
        if checked is not None:
            arguments.append(checked)
        rows.append(row)
    return ImportPreview(rows=rows), arguments


def sales_import(*, data: bytes | str, actor: Actor) -> tuple[ImportPreview, int, int]:
    """Save every row, or none when any row has an error. (preview, created, updated)."""
    preview, arguments = _check(data)
    if not preview.ok:
        return preview, 0, 0
    created = updated = 0
    with transaction.atomic():
        for item in arguments:
            _document, was_created = sales_document_post(actor=actor, **item)
            created += was_created
            updated += not was_created
        audit_record(
            action="sales.documents_imported",
            actor=actor,
            object_type="sales_document",
            data={"created": created, "updated": updated},
        )
    return preview, created, updated
