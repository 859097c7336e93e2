"""The reports, as small declarative definitions (issue 11).

A report is a list of columns (label, a value getter, a type, the permission that may
see it) and how it narrows and annotates a selection of customers. The page, the CSV
and the Excel file are drawn from the same definition; the label sheets, the PDF and
the background export job are meant to reuse it.

A getter receives a *row*: for most reports the customer itself, for the address list
one ``(customer, address)`` pair per address, for the labels one ``labels.Label`` per
label (``Report.rows``). A report with a ``perm`` is offered only to roles that have it.
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

from anonymization import deletion, eligibility
from consent.models import ConsentStatus, Method
from customers.models import AddressKind, CustomerStatus
from customers.phones import phone_display
from tenancy.roles import Perm

from . import labels, selectors

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
    perm: str | None = None  # offered only to members whose role grants it

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
        Column("phone", _("Phone"), lambda c: phone_display(c.phone)),
        Column("mobile", _("Mobile"), lambda c: phone_display(c.mobile)),
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
        Column("phone", _("Phone"), lambda c: phone_display(c.phone)),
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
        Column("mobile", _("Mobile"), lambda c: phone_display(c.mobile)),
    ),
    narrow=lambda qs, **kw: selectors.with_consent(qs),
)


# --- Labels: one per contact reference per customer (Avance's "Etikett/referens") -------

LABELS = Report(
    slug="labels",
    label=_("Labels"),
    description=_(
        "One label per contact person of each customer, or one for a customer without "
        "contacts, to the postal address (else the head office). Print them on a label sheet."
    ),
    columns=(
        Column("number", _("Customer number"), lambda r: r.number, sort="number"),
        Column("name", _("Name"), lambda r: r.name, sort="name"),
        Column("attention", _("Attention"), lambda r: r.attention),
        Column("line1", _("Address line 1"), lambda r: r.line1),
        Column("line2", _("Address line 2"), lambda r: r.line2),
        Column("postcode", _("Postcode"), lambda r: r.postcode),
        Column("city", _("City"), lambda r: r.city),
        Column("country", _("Country"), lambda r: r.country),
    ),
    narrow=lambda qs, **kw: labels.with_label_data(qs),
    rows=labels.label_rows,
)


# --- Anonymization and deletion candidates (anonymization/) ------------------------------


def _kind(c) -> str:
    return gettext("Prospect") if c.is_prospect else gettext("Customer")


def _why_eligible(c) -> str:
    """Why it may be anonymized: its retention period has passed, and nothing else keeps
    it (``eligible_customers`` lists only those)."""
    years = {"years": c.retention_period}
    if c.retention_years:
        return gettext("The customer's own retention period (%(years)s years) has passed") % years
    if c.is_prospect:
        return gettext("The retention period for prospects (%(years)s years) has passed") % years
    return gettext("The retention period for customers (%(years)s years) has passed") % years


ANONYMIZATION_CANDIDATES = Report(
    slug="anonymization",
    label=_("Anonymization candidates"),
    description=_(
        "Customers and prospects that may be anonymized today: their retention period has "
        "passed, and no open document, balance or legal hold keeps them."
    ),
    columns=(
        NUMBER,
        NAME,
        Column("kind", _("Kind"), _kind),
        Column(
            "last_activity",
            _("Last activity"),
            lambda c: local_date(c.last_activity_at),
            type=DATE,
            sort="last_activity",
        ),
        Column("eligible_on", _("Eligible since"), lambda c: c.eligible_on, type=DATE),
        Column("why", _("Why"), _why_eligible),
    ),
    narrow=lambda qs, **kw: eligibility.eligible_customers(qs),
    perm=Perm.ANONYMIZE,
)


DELETION_CANDIDATES = Report(
    slug="deletion",
    label=_("Deletion candidates"),
    description=_(
        "Customers that may be deleted: nothing refers to them (no sales documents, consent "
        "records, legal holds or messages). The others can only be anonymized."
    ),
    columns=(
        NUMBER,
        NAME,
        Column("status", _("Status"), lambda c: _label(CustomerStatus, c.status)),
        Column(
            "last_activity",
            _("Last activity"),
            lambda c: local_date(c.last_activity_at),
            type=DATE,
            sort="last_activity",
        ),
        Column("created", _("Created"), lambda c: local_date(c.created_at), type=DATE),
        CITY,
    ),
    narrow=lambda qs, **kw: deletion.deletion_proposal(qs)[0],
    perm=Perm.DELETE_CUSTOMER,
)


REPORTS: dict[str, Report] = {
    r.slug: r
    for r in (
        ADDRESS_LIST,
        PHONE_LIST,
        LABELS,
        INACTIVE,
        COULD_NOT_REACH,
        CONSENT_STATUS,
        ANONYMIZATION_CANDIDATES,
        DELETION_CANDIDATES,
    )
}


def cell_values(report: Report, columns: list[Column], customer) -> Iterator[list]:
    """The rows ``customer`` gives in ``report``: one list of raw values per row."""
    for row in report.rows(customer):
        yield [column.get(row) for column in columns]
