"""Reads behind the reports: the selection of customers and what each report adds to it.

The selection starts from the customer list's own selector (``customer_list``, the same
filters as the list page); reports adds what only it may know (consent, sales), reading
the lower apps directly as docs/design.md allows ``reports/``.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from consent.delivery import REFERENCE_PREFIX
from consent.models import (
    OPEN_STATUSES,
    ConsentDecision,
    ConsentRequest,
    ConsentState,
    ConsentStatus,
    RequestStatus,
)
from customers.models import Address, Customer, CustomerStatus
from customers.selectors import customer_list
from notifications.models import OutboundMessage
from notifications.models import Status as MessageStatus
from sales.models import DocumentStatus, SalesDocument


def selection(
    *,
    list_kwargs: dict,
    never_asked: bool = False,
    no_email: bool = False,
    no_mobile: bool = False,
) -> QuerySet[Customer]:
    """The customers of a selection: the list's filters (``customer_list`` keyword
    arguments) and the report page's own criteria. Anonymized customers hold no personal
    data and are never in a report."""
    customers = customer_list(**list_kwargs).exclude(status=CustomerStatus.ANONYMIZED)
    if never_asked:
        customers = customers.filter(_never_asked())
    if no_email:
        customers = customers.filter(email="")
    if no_mobile:
        customers = customers.filter(mobile="")
    return customers


def _never_asked() -> Q:
    """No consent request was ever made and no decision recorded (not even in the shop)."""
    requests = ConsentRequest.objects.filter(customer=OuterRef("pk"))
    decisions = ConsentDecision.objects.filter(customer=OuterRef("pk"))
    return ~Q(Exists(requests)) & ~Q(Exists(decisions))


def with_all_addresses(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Every address of each customer, the head office first, then in the order added."""
    addresses = Address.objects.order_by("-is_head_office", "pk")
    return customers.prefetch_related(None).prefetch_related(
        Prefetch("addresses", queryset=addresses)
    )


def with_open_balance(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``open_balance``: the sum of the open balances of the customer's open documents."""
    total = (
        SalesDocument.objects.filter(customer=OuterRef("pk"), status=DocumentStatus.OPEN)
        .order_by()
        .values("customer")
        .annotate(total=Sum("balance"))
        .values("total")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return customers.annotate(
        open_balance=Coalesce(Subquery(total, output_field=money), Value(Decimal("0.00")))
    )


def _request_failed() -> Q:
    """A consent request that never reached the customer: its delivery failed (an expired
    request counts when its message failed or was undelivered)."""
    failed_message = OutboundMessage.objects.filter(
        reference=Concat(Value(REFERENCE_PREFIX), Cast(OuterRef("pk"), CharField())),
        status__in=[MessageStatus.FAILED, MessageStatus.UNDELIVERED],
    )
    return Q(status=RequestStatus.FAILED) | Q(
        Q(status=RequestStatus.EXPIRED) & Q(Exists(failed_message))
    )


def could_not_reach(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers to write to by post, with ``never_asked`` (else: every request failed).

    - never asked for consent, and neither an email address nor a mobile number, or
    - asked at least once, and every request failed to reach them.
    """
    requests = ConsentRequest.objects.filter(customer=OuterRef("pk"))
    reached = requests.exclude(_request_failed())
    never_asked_unreachable = _never_asked() & Q(email="", mobile="")
    all_failed = Q(Exists(requests)) & ~Q(Exists(reached))
    return customers.annotate(never_asked=never_asked_unreachable).filter(
        never_asked_unreachable | all_failed
    )


def with_consent(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``consent_status``, ``consent_decided_at``, ``consent_method``, read the way the
    registry's badge reads them: an unanswered request past its expiry and a consent past
    its validity are ``expired``; no state at all is ``none``."""
    now = timezone.now()
    states = ConsentState.objects.filter(customer=OuterRef("pk"))
    lapsed = states.filter(
        Q(
            status=ConsentStatus.REQUESTED,
            last_request__status__in=OPEN_STATUSES,
            last_request__expires_at__lte=now,
        )
        | Q(status=ConsentStatus.GRANTED, valid_until__lte=now)
    )
    return customers.annotate(
        consent_status=Case(
            When(Exists(lapsed), then=Value(ConsentStatus.EXPIRED.value)),
            default=Coalesce(
                Subquery(states.values("status")[:1]), Value(ConsentStatus.NONE.value)
            ),
            output_field=CharField(),
        ),
        consent_decided_at=Subquery(states.values("decided_at")[:1]),
        consent_method=Subquery(states.values("method")[:1]),
    )
