"""The reports, as small declarative definitions (issue 11).

A report is a list of columns (label, a value getter, a type, the permission that may
see it) and how it narrows and annotates a selection of customers. The page, the CSV
and the Excel file are drawn from the same definition; the label sheets, the PDF and
the background export job are meant to reuse it.

A getter receives a *row*: for most reports the customer itself, for the address list
one ``(customer, address)`` pair per address (``Report.rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentStatus, Method
from customers.models import AddressKind
from tenancy.roles import Perm

from . import selectors

TEXT, DATE, MONEY = "text", "date", "money"


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    get: Callable[[Any], Any]
    type: str = TEXT  # TEXT (defused in files), DATE (a date), MONEY (a Decimal)
    perm: str | None = None  # shown only to members whose role grants it
    sort: str | None = None  # the customer list's sort key, when the column sorts


@dataclass(frozen=True)
class Report:
    slug: str
    label: Promise
    description: Promise
    columns: tuple[Column, ...]
    # (customers, *, finance) -> customers: narrows and annotates the selection.
    narrow: Callable[..., Any] = field(default=lambda qs, **kw: qs)
    # One customer -> the rows it gives (most reports: the customer itself).
    rows: Callable[[Any], Iterable[Any]] = field(default=lambda c: (c,))
    needs_before: bool = False  # needs "Last activity before"

    def columns_for(self, has_perm: Callable[[str], bool]) -> list[Column]:
        """The columns a member may see (``has_perm``: the membership's check)."""
        return [c for c in self.columns if c.perm is None or has_perm(c.perm)]

    def queryset(self, customers, *, has_perm: Callable[[str], bool]):
        """The selection narrowed and annotated for this report (finance only if allowed)."""
        return self.narrow(customers, finance=has_perm(Perm.FINANCE_VIEW))


def local_date(value: datetime | None) -> date | None:
    return timezone.localtime(value).date() if value else None


def _office_part(part: str):
    def get(c):
        office = c.head_office
        return getattr(office, part) if office else ""

    return get


def _yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")


NUMBER = Column("number", _("Customer number"), lambda c: c.number, sort="number")
NAME = Column("name", _("Name"), lambda c: c.name, sort="name")
CITY = Column("city", _("City"), _office_part("city"))


# --- Address list: every address of each customer, head office first ----------------------


def _address_rows(customer) -> Iterator[tuple]:
    addresses = list(customer.addresses.all())  # prefetched head office first
    if not addresses:
        yield (customer, None)
    for address in addresses:
        yield (customer, address)


def _address_part(part: str):
    return lambda row: getattr(row[1], part) if row[1] is not None else ""


def _address_kind(row) -> str:
    address = row[1]
    if address is None:
        return ""
    return str(AddressKind(address.kind).label) if address.kind else ""


ADDRESS_LIST = Report(
    slug="addresses",
    label=_("Address list"),
    description=_("Every address of each customer, the head office first."),
    columns=(
        Column("number", _("Customer number"), lambda r: r[0].number, sort="number"),
        Column("name", _("Name"), lambda r: r[0].name, sort="name"),
        Column("kind", _("Address kind"), _address_kind),
        Column(
            "head_office",
            _("Head office"),
            lambda r: _yes_no(r[1].is_head_office) if r[1] is not None else "",
        ),
        Column("line1", _("Address line 1"), _address_part("line1")),
        Column("line2", _("Address line 2"), _address_part("line2")),
        Column("postcode", _("Postcode"), _address_part("postcode")),
        Column("city", _("City"), _address_part("city")),
        Column("country", _("Country"), _address_part("country")),
    ),
    narrow=lambda qs, **kw: selectors.with_all_addresses(qs),
    rows=_address_rows,
)


# --- Phone list ---------------------------------------------------------------------------

PHONE_LIST = Report(
    slug="phones",
    label=_("Phone list"),
    description=_("Phone and mobile numbers of each customer."),
    columns=(
        NUMBER,
        NAME,
        Column("phone", _("Phone"), lambda c: c.phone),
        Column("mobile", _("Mobile"), lambda c: c.mobile),
        Column("email", _("Email"), lambda c: c.email),
        CITY,
    ),
)


# --- Inactive customers -------------------------------------------------------------------


def _inactive(qs, *, finance: bool):
    return selectors.with_open_balance(qs) if finance else qs


INACTIVE = Report(
    slug="inactive",
    label=_("Inactive customers"),
    description=_(
        "Customers with no activity since the date in “Last activity before”, "
        "with their open balance."
    ),
    columns=(
        NUMBER,
        NAME,
        Column(
            "last_activity",
            _("Last activity"),
            lambda c: local_date(c.last_activity_at),
            type=DATE,
            sort="last_activity",
        ),
        Column(
            "balance",
            _("Open balance"),
            lambda c: c.open_balance,
            type=MONEY,
            perm=Perm.FINANCE_VIEW,
        ),
        Column("phone", _("Phone"), lambda c: c.phone),
        Column("email", _("Email"), lambda c: c.email),
        CITY,
    ),
    narrow=_inactive,
    needs_before=True,
)


# --- Could not reach: the ones to write to by post ----------------------------------------


def _reason(c) -> str:
    if c.never_asked:
        return gettext("Never asked; no email or mobile")
    return gettext("Every consent request failed")


COULD_NOT_REACH = Report(
    slug="unreachable",
    label=_("Could not reach"),
    description=_(
        "Customers never asked for consent that have neither email nor mobile, and "
        "customers whose every consent request failed: the ones to write to by post."
    ),
    columns=(
        NUMBER,
        NAME,
        Column("reason", _("Reason"), _reason),
        Column("line1", _("Address line 1"), _office_part("line1")),
        Column("line2", _("Address line 2"), _office_part("line2")),
        Column("postcode", _("Postcode"), _office_part("postcode")),
        CITY,
        Column("country", _("Country"), _office_part("country")),
    ),
    narrow=lambda qs, **kw: selectors.could_not_reach(qs),
)


# --- Consent status -----------------------------------------------------------------------


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


CONSENT_STATUS = Report(
    slug="consent",
    label=_("Consent status list"),
    description=_("The consent status of each customer, when and how it was decided."),
    columns=(
        NUMBER,
        NAME,
        Column("consent", _("Consent"), lambda c: _label(ConsentStatus, c.consent_status)),
        Column("decided_at", _("Decided"), lambda c: local_date(c.consent_decided_at), type=DATE),
        Column("method", _("Method"), lambda c: _label(Method, c.consent_method)),
        Column("email", _("Email"), lambda c: c.email),
        Column("mobile", _("Mobile"), lambda c: c.mobile),
    ),
    narrow=lambda qs, **kw: selectors.with_consent(qs),
)


REPORTS: dict[str, Report] = {
    r.slug: r for r in (ADDRESS_LIST, PHONE_LIST, INACTIVE, COULD_NOT_REACH, CONSENT_STATUS)
}


def cell_values(report: Report, columns: list[Column], customer) -> Iterator[list]:
    """The rows ``customer`` gives in ``report``: one list of raw values per row."""
    for row in report.rows(customer):
        yield [column.get(row) for column in columns]
