"""Reads of consent data (always inside the active tenant)."""

from __future__ import annotations

import hashlib

from django.db import connection
from django.utils import timezone

from tenancy.context import current_tenant, require_tenant
from tenancy.memo import memoized
from tenancy.models import Tenant

from .models import (
    DEFAULT_VALID_DAYS,
    OPEN_STATUSES,
    ConsentDecision,
    ConsentRequest,
    ConsentSettings,
    ConsentState,
    ConsentStatus,
    ConsentTerms,
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


NO_CONSENT = {"status": "none", "terms_version": None, "decided_at": None, "method": None}


def _effective_status(status: str, *, request_status, request_expires_at, valid_until) -> str:
    """The status as it reads now, before the hourly lifecycle run has written it: a
    request nobody answered in time, and a consent past its validity, read ``expired``."""
    now = timezone.now()
    if (
        status == ConsentStatus.REQUESTED
        and request_status in OPEN_STATUSES
        and request_expires_at is not None
        and request_expires_at <= now
    ):
        return ConsentStatus.EXPIRED
    if status == ConsentStatus.GRANTED and valid_until is not None and valid_until <= now:
        return ConsentStatus.EXPIRED
    return status


def consent_state_of(customer) -> ConsentState | None:
    return ConsentState.objects.filter(customer=customer).first()


def consent_status_of(customer) -> dict:
    """The customer's consent as docs/api.md shows it (customers.hooks.consent_status_provider)."""
    state = consent_state_of(customer)
    if state is None:
        return dict(NO_CONSENT)
    request = state.last_request
    status = _effective_status(
        state.status,
        request_status=request.status if request else None,
        request_expires_at=request.expires_at if request else None,
        valid_until=state.valid_until,
    )
    return {
        "status": status,
        "terms_version": state.terms_version,
        "decided_at": state.decided_at,
        "method": state.method or None,
    }


# The customer API shows every listed customer's consent through customers.hooks, one
# customer at a time; to keep the list's query count flat, the tenant's states are read
# in one query and kept on the (per-request) Tenant object. The services drop that copy
# on every write (forget_registry_states). Above REGISTRY_CACHE_MAX states it reads one
# row per customer instead.
REGISTRY_CACHE_MAX = 20000
_CACHE_ATTR = "_consent_registry_states"


def forget_registry_states() -> None:
    tenant = current_tenant()
    if tenant is not None and hasattr(tenant, _CACHE_ATTR):
        delattr(tenant, _CACHE_ATTR)


def consent_status_for_registry(customer) -> dict:
    """customers.hooks.consent_status_provider: consent_status_of with a per-request batch."""
    tenant = current_tenant()
    if tenant is None or tenant.pk != customer.tenant_id:
        return consent_status_of(customer)
    states = getattr(tenant, _CACHE_ATTR, None)
    if states is None:
        rows = list(
            ConsentState.objects.values_list(
                "customer_id",
                "status",
                "terms_version",
                "decided_at",
                "method",
                "last_request__status",
                "last_request__expires_at",
                "valid_until",
            )[: REGISTRY_CACHE_MAX + 1]
        )
        states = False if len(rows) > REGISTRY_CACHE_MAX else {row[0]: row[1:] for row in rows}
        setattr(tenant, _CACHE_ATTR, states)
    if states is False:
        return consent_status_of(customer)
    row = states.get(customer.pk)
    if row is None:
        return dict(NO_CONSENT)
    status, terms_version, decided_at, method, request_status, expires_at, valid_until = row
    status = _effective_status(
        status,
        request_status=request_status,
        request_expires_at=expires_at,
        valid_until=valid_until,
    )
    return {
        "status": status,
        "terms_version": terms_version,
        "decided_at": decided_at,
        "method": method or None,
    }


def terms_current(*, language: str) -> ConsentTerms | None:
    return memoized(
        ("consent.terms_current", language),
        lambda: ConsentTerms.objects.filter(language=language).order_by("-version").first(),
    )


def terms_version_get(*, language: str, version: int) -> ConsentTerms | None:
    return ConsentTerms.objects.filter(language=language, version=version).first()


def terms_history() -> dict[str, list[ConsentTerms]]:
    history: dict[str, list[ConsentTerms]] = {}
    for terms in ConsentTerms.objects.select_related("published_by").order_by(
        "language", "-version"
    ):
        history.setdefault(terms.language, []).append(terms)
    return history


def request_valid_days() -> int:
    row = memoized(("consent.settings",), ConsentSettings.objects.first)
    return row.request_valid_days if row else DEFAULT_VALID_DAYS


def decisions_of(customer):
    return ConsentDecision.objects.filter(customer=customer).order_by("-decided_at", "-pk")


def request_locate(token: str) -> tuple[int, Tenant] | None:
    """(request id, tenant) for a consent-page token, before any tenant is active.

    The one cross-tenant read, through the SECURITY DEFINER function of migration
    consent 0001: it answers only for the exact hash of an existing token.
    """
    if not token or len(token) > 100 or not token.isascii():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM kundreg_consent_token_lookup(%s)", [token_hash(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    tenant = Tenant.objects.filter(pk=row[1], is_active=True).first()
    return (row[0], tenant) if tenant else None


def request_for_page(request_id: int) -> ConsentRequest | None:
    """Inside the tenant's context: the request :func:`request_locate` found.

    By id, not by ``ConsentRequest.token_hash``: a request has more than one token
    (the reminder's link carries a second one, consent.lifecycle).
    """
    return ConsentRequest.objects.select_related("customer", "terms").filter(pk=request_id).first()


def request_for_token(token: str) -> ConsentRequest | None:
    """Inside the tenant's context: the request any of its tokens belongs to."""
    located = request_locate(token)
    tenant = current_tenant()
    if located is None or tenant is None or located[1].pk != tenant.pk:
        return None
    return request_for_page(located[0])


# ---------------------------------------------------------------------------
# Consent filter of the customer list and the re-consent listing (consent/batches.py).
# Imports are local so that this appended block leaves the module's head alone.


def customers_by_consent_status(queryset, status: str):
    """customers.hooks.consent_status_filter: ``queryset`` narrowed to one consent status.

    The same reading as :func:`consent_status_for_registry`: a request past its expiry
    that nobody answered, and a consent past its validity, read as ``expired``; a
    customer without a state row is ``none``.
    """
    from django.db.models import Exists, OuterRef, Q

    if status not in ConsentStatus.values:
        return queryset.none()
    now = timezone.now()
    lapsed = Q(
        status=ConsentStatus.REQUESTED,
        last_request__status__in=OPEN_STATUSES,
        last_request__expires_at__lte=now,
    ) | Q(status=ConsentStatus.GRANTED, valid_until__lte=now)
    states = ConsentState.objects.filter(customer=OuterRef("pk"))
    if status == ConsentStatus.NONE:
        return queryset.exclude(Exists(states.exclude(status=ConsentStatus.NONE)))
    if status == ConsentStatus.EXPIRED:
        matching = states.filter(Q(status=ConsentStatus.EXPIRED) | lapsed)
    elif status in (ConsentStatus.REQUESTED, ConsentStatus.GRANTED):
        matching = states.filter(status=status).exclude(lapsed)
    else:
        matching = states.filter(status=status)
    return queryset.filter(Exists(matching))


def customers_on_outdated_terms():
    """Customers whose current consent is granted to an older version of the terms than
    the current one in their language (the customer's, else the tenant's default)."""
    from django.db.models import F, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce, NullIf

    from customers.models import Customer, CustomerStatus
    from tenancy.context import require_tenant

    default_language = require_tenant().default_language
    granted = ConsentState.objects.filter(customer=OuterRef("pk"), status=ConsentStatus.GRANTED)
    current = ConsentTerms.objects.filter(language=OuterRef("terms_language")).order_by("-version")
    return (
        Customer.objects.exclude(status=CustomerStatus.ANONYMIZED)
        .annotate(
            terms_language=Coalesce(NullIf(F("language"), Value("")), Value(default_language)),
            consented_version=Subquery(granted.values("terms_version")[:1]),
        )
        .annotate(current_version=Subquery(current.values("version")[:1]))
        .filter(consented_version__lt=F("current_version"))
        .order_by("sort_name", "pk")
    )


def batch_list():
    from .models import ConsentBatch

    return ConsentBatch.objects.select_related("created_by").order_by("-created_at", "-pk")


def batch_unreachable(batch):
    """The customers of ``batch`` that were not asked (skipped or failed), with head office."""
    from django.db.models import Prefetch

    from customers.models import Address

    from .models import BatchOutcome, ConsentBatchItem

    return (
        ConsentBatchItem.objects.filter(
            batch=batch, outcome__in=[BatchOutcome.SKIPPED, BatchOutcome.FAILED]
        )
        .select_related("customer")
        .prefetch_related(
            Prefetch("customer__addresses", queryset=Address.objects.filter(is_head_office=True))
        )
        .order_by("customer__sort_name", "customer__number", "pk")
    )


def batch_message_count(batch_id: int, *, statuses) -> int:
    """How many of the batch's messages (one per request asked) are in one of ``statuses``.

    Driven from the batch's items, each looking its request's messages up by reference
    (that column's index; ``OFFSET 0`` keeps the planner from turning it into a join it
    orders itself): linear in the batch, whatever the statistics say. As a semi-join, with
    a new batch not yet in the statistics, the planner looped over every item of the batch
    for every unsettled message of the tenant (3.7 s at 4,000; quadratic).
    """
    from notifications.models import OutboundMessage

    from .delivery import REFERENCE_PREFIX
    from .models import ConsentBatchItem

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*)
              FROM {ConsentBatchItem._meta.db_table} i
             CROSS JOIN LATERAL (
                   SELECT m.status FROM {OutboundMessage._meta.db_table} m
                    WHERE m.reference = %(prefix)s || i.request_id::text
                   OFFSET 0
             ) m
             WHERE i.tenant_id = %(tenant)s AND i.batch_id = %(batch)s
               AND i.request_id IS NOT NULL AND m.status = ANY(%(statuses)s)
            """,  # noqa: S608 - our models' table names only
            {
                "prefix": REFERENCE_PREFIX,
                "tenant": require_tenant().pk,
                "batch": batch_id,
                "statuses": [str(s) for s in statuses],
            },
        )
        return cursor.fetchone()[0]
