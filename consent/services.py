"""Consent use cases: publish terms, request consent, record decisions (with proof and audit)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import require_tenant
from tenancy.models import LANGUAGE_CHOICES

from . import selectors, tokens
from .delivery import request_dispatch
from .models import (
    OPEN_STATUSES,
    Channel,
    ConsentDecision,
    ConsentRequest,
    ConsentSettings,
    ConsentState,
    ConsentStatus,
    ConsentTerms,
    Decision,
    ManualHow,
    Method,
    RequestStatus,
)

LANGUAGES = {code for code, _label in LANGUAGE_CHOICES}
CONTEXT_KEYS = ("store", "terminal", "staff")
DECISION_TO_REQUEST = {
    Decision.GRANTED: RequestStatus.ACCEPTED,
    Decision.DECLINED: RequestStatus.DECLINED,
}


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [model._meta.db_table])
        return cursor.fetchone()[0]


# ---------------------------------------------------------------------------
# Terms and settings


@transaction.atomic
def consent_terms_publish(*, language: str, text: str, actor: Actor) -> ConsentTerms:
    """Publish ``text`` as the next version for ``language``; earlier versions stay as they were.

    Publishing the same text as the current version publishes nothing and returns it.
    """
    if language not in LANGUAGES:
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": _("The consent text cannot be empty.")})
    tenant = require_tenant()
    current = (
        ConsentTerms.objects.select_for_update()
        .filter(language=language)
        .order_by("-version")
        .first()
    )
    if current is not None and current.text == text:
        return current
    terms = ConsentTerms(
        tenant=tenant,
        language=language,
        version=(current.version + 1) if current else 1,
        text=text,
        published_at=timezone.now(),
        published_by=actor.signed_in_user(),
    )
    terms.save()
    audit_record(
        action="consent.terms_published",
        actor=actor,
        object_type="consent.terms",
        object_id=terms.pk,
        data={"language": language, "version": terms.version, "sha256": terms.text_sha256},
    )
    return terms


KEEP: Any = object()  # a setting not passed to consent_settings_update keeps its value


def _whole_number(field: str, value, low: int, high: int, message, *, optional: bool = False):
    if value in (None, "") and optional:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise ValidationError({field: message})
    return number


@transaction.atomic
def consent_settings_update(
    *,
    request_valid_days: int,
    actor: Actor,
    reminder_after_days: int | None = KEEP,
    consent_valid_months: int | None = KEEP,
    renewal_notice_days: int = KEEP,
) -> ConsentSettings:
    """Save the tenant's consent settings; None turns the reminder / the validity limit off.

    A change of the validity or the renewal notice recomputes every granted consent's
    ``valid_until`` (consent.lifecycle.validity_recompute).
    """
    from .lifecycle import validity_recompute

    row, _created = ConsentSettings.objects.select_for_update().get_or_create(
        tenant=require_tenant()
    )
    before = (row.consent_valid_months, row.renewal_notice_days)
    days_msg = _("Enter a number of days from 1 to 365.")
    row.request_valid_days = _whole_number(
        "request_valid_days", request_valid_days, 1, 365, days_msg
    )
    if reminder_after_days is not KEEP:
        row.reminder_after_days = _whole_number(
            "reminder_after_days",
            reminder_after_days,
            1,
            364,
            _("Enter a number of days from 1 to 364, or leave it empty for no reminder."),
            optional=True,
        )
    if consent_valid_months is not KEEP:
        row.consent_valid_months = _whole_number(
            "consent_valid_months",
            consent_valid_months,
            1,
            120,
            _("Enter a number of months from 1 to 120, or leave it empty if consent never lapses."),
            optional=True,
        )
    if renewal_notice_days is not KEEP:
        row.renewal_notice_days = _whole_number(
            "renewal_notice_days", renewal_notice_days, 1, 365, days_msg
        )
    errors = {}
    # Checked when the reminder is set (a reminder after expiry is never sent anyway).
    if (
        reminder_after_days is not KEEP
        and row.reminder_after_days is not None
        and row.reminder_after_days >= row.request_valid_days
    ):
        errors["reminder_after_days"] = _(
            "The reminder must go out before the link expires: enter fewer days than the link "
            "is valid."
        )
    # The shortest month counts: a renewal must never be due on the day consent is given.
    if row.consent_valid_months and row.renewal_notice_days >= row.consent_valid_months * 28:
        errors["renewal_notice_days"] = _(
            "Ask again fewer days before the consent lapses than the consent is valid."
        )
    if errors:
        raise ValidationError(errors)
    row.save()
    recomputed = None
    if (row.consent_valid_months, row.renewal_notice_days) != before:
        recomputed = validity_recompute()
    audit_record(
        action="consent.settings_changed",
        actor=actor,
        object_type="consent.settings",
        object_id=row.pk,
        data={
            "request_valid_days": row.request_valid_days,
            "reminder_after_days": row.reminder_after_days,
            "consent_valid_months": row.consent_valid_months,
            "renewal_notice_days": row.renewal_notice_days,
            "states_recomputed": recomputed,
        },
    )
    return row


# ---------------------------------------------------------------------------
# State


def _state_set(customer, **values) -> ConsentState:
    state, _created = ConsentState.objects.select_for_update().get_or_create(
        tenant=require_tenant(), customer=customer
    )
    for name, value in values.items():
        setattr(state, name, value)
    state.save()
    selectors.forget_registry_states()
    return state


def _state_requested(customer, request: ConsentRequest) -> None:
    """The customer's state says "requested", unless a consent is already given (a pending
    request does not hide it). One statement: a batch runs this for every customer."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO consent_consentstate
                (tenant_id, customer_id, status, method, last_request_id, updated_at)
            VALUES (%s, %s, %s, '', %s, now())
            ON CONFLICT (tenant_id, customer_id) DO UPDATE
               SET status = EXCLUDED.status, last_request_id = EXCLUDED.last_request_id,
                   updated_at = EXCLUDED.updated_at
             WHERE consent_consentstate.status <> %s
            """,
            [
                request.tenant_id,
                customer.pk,
                ConsentStatus.REQUESTED,
                request.pk,
                ConsentStatus.GRANTED,
            ],
        )
    selectors.forget_registry_states()


# ---------------------------------------------------------------------------
# Requests


# The rules of one request, shared by consent_request_create and the set-based batch chunk
# (consent/batch_chunk.py), so that the two paths cannot drift apart.

REQUESTED = "consent.requested"  # the audit action of a new request


def request_channel(customer, channel: str) -> tuple[str, str]:
    """(channel, destination) of a request by ``channel`` (email, sms or any) to ``customer``
    (anything with ``email`` and ``mobile``): email first when "any"."""
    email, mobile = (customer.email or "").strip(), (customer.mobile or "").strip()
    if channel == Channel.EMAIL:
        if email:
            return Channel.EMAIL, email
        raise ValidationError({"channel": _("The customer has no email address.")})
    if channel == Channel.SMS:
        if mobile:
            return Channel.SMS, mobile
        raise ValidationError({"channel": _("The customer has no mobile number.")})
    if channel == "any":
        if email:
            return Channel.EMAIL, email
        if mobile:
            return Channel.SMS, mobile
        raise ValidationError({"channel": _("The customer has neither email nor mobile number.")})
    raise ValidationError({"channel": _("Choose email, sms or any.")})


def request_language(customer, tenant, language: str | None = None) -> str:
    """The request's language: the one asked for, else the customer's, else the tenant's."""
    return language or customer.language or tenant.default_language


def request_expiry(now):
    """When a request created ``now`` stops being answerable (the tenant's setting)."""
    return now + timedelta(days=selectors.request_valid_days())


def request_token_hash(request_id: int) -> tuple[str, str]:
    """(first token, its stored hash) of request ``request_id``: the token is derived from
    the id (consent.tokens), and only the hash is stored."""
    token = tokens.request_token(request_id, tokens.FIRST)
    return token, selectors.token_hash(token)


def requested_audit_data(*, customer_id: int, channel: str, language: str, terms) -> dict:
    """What the audit entry of a new request says: ids, channel, language, version only."""
    return {
        "customer_id": customer_id,
        "channel": channel,
        "language": language,
        "terms_version": terms.version,
    }


class NoAddressError(ValidationError):
    """The customer has no address for the chosen channel (the API answers 422)."""


class NoTermsError(ValidationError):
    """No consent text is published in the request's language (the API answers 422)."""


class OpenRequestExists(ValidationError):
    """The customer already has a request waiting for an answer: no second message goes out
    (the API answers 409 with its id, a batch skips the customer). ``request`` is that one."""

    def __init__(self, request: ConsentRequest):
        super().__init__(
            _(
                "This customer was already asked on %(date)s and has not answered yet; the "
                "link is valid until %(expires)s."
            )
            % {
                "date": timezone.localtime(request.created_at).date().isoformat(),
                "expires": timezone.localtime(request.expires_at).date().isoformat(),
            },
            code="open_request",
        )
        self.request = request


# Advisory-lock namespace ("CR") for "one open request per customer" (see _lock_customer).
_LOCK_CLASS = 0x4352
# Requests that still wait for the customer's answer and whose message reached (or is on
# its way to) them. A FAILED one never reached them: asking again is allowed, e.g. after
# the address was corrected.
WAITING_STATUSES = (RequestStatus.QUEUED, RequestStatus.SENT, RequestStatus.DELIVERED)


def _lock_customer(customer) -> None:
    """Serialise request creation per customer until the transaction ends, so that of two
    concurrent requests the second sees the first (an advisory lock rather than a row lock:
    it holds up no edit of the customer and no row that refers to it)."""
    lock_customers([customer.pk])


def lock_customers(customer_ids) -> None:
    """:func:`_lock_customer` for many customers in one statement, in key order (two
    chunks locking overlapping customers then wait for each other instead of deadlocking)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, k) FROM (SELECT DISTINCT (id %% 2147483647)::int "
            "AS k FROM unnest(%s::bigint[]) AS id ORDER BY 1) AS keys",
            [_LOCK_CLASS, list(customer_ids)],
        )


def open_request_of(customer) -> ConsentRequest | None:
    """The customer's newest request still waiting for an answer (not yet expired)."""
    return (
        ConsentRequest.objects.filter(
            customer=customer, status__in=WAITING_STATUSES, expires_at__gt=timezone.now()
        )
        .select_related("terms")
        .order_by("-created_at", "-pk")
        .first()
    )


@transaction.atomic
def consent_request_create(
    *, customer, channel: str, language: str | None = None, actor: Actor, batch=None
) -> tuple[ConsentRequest, str]:
    """Create a queued consent request; returns it and the raw token (stored only hashed).

    The link is ``tokens.consent_link(token)``; the queued message holds a marker that
    becomes the link only as it is sent. Raises NoAddressError when the customer has
    no address for the channel, NoTermsError when no terms exist for the language, and
    notifications' SmsNotEnabled / SmsCapReached when an SMS may not be sent, and
    OpenRequestExists when the customer already has a request waiting for an answer
    (one message per open request: the same person is never asked twice at once).
    """
    tenant = require_tenant()
    _lock_customer(customer)
    if (waiting := open_request_of(customer)) is not None:
        raise OpenRequestExists(waiting)
    try:
        channel, destination = request_channel(customer, channel)
    except ValidationError as exc:
        if channel in (Channel.EMAIL, Channel.SMS, "any"):
            raise NoAddressError(exc.message_dict) from None
        raise
    language = request_language(customer, tenant, language)
    if language not in LANGUAGES:
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    terms = selectors.terms_current(language=language)
    if terms is None:
        raise NoTermsError({"language": _("No consent text is published in this language yet.")})
    request_id = _next_id(ConsentRequest)
    token, token_hash = request_token_hash(request_id)
    now = timezone.now()
    request = ConsentRequest.objects.create(
        pk=request_id,
        tenant=tenant,
        customer=customer,
        channel=channel,
        destination=destination,
        language=language,
        terms=terms,
        token_hash=token_hash,
        status=RequestStatus.QUEUED,
        expires_at=request_expiry(now),
        created_at=now,
        created_by=actor.signed_in_user(),
        actor_type=actor.type,
        actor_id=str(actor.id),
        batch=batch,
    )
    _state_requested(customer, request)
    audit_record(
        action=REQUESTED,
        actor=actor,
        object_type="consent.request",
        object_id=request.pk,
        data=requested_audit_data(
            customer_id=customer.pk, channel=channel, language=language, terms=terms
        ),
    )
    request_dispatch(request, link=tokens.link_marker(request.pk, tokens.FIRST))
    return request, token


@transaction.atomic
def consent_request_mark_delivery(*, request: ConsentRequest, status: str, actor: Actor) -> None:
    """Delivery feedback (sent / delivered / failed) from notifications; answered requests stay.

    Not in the audit log: a delivery report is no consent change and nobody's act, and its
    proof is the message's own record (OutboundMessage times, MessageEvent per callback).
    Auditing it would take the tenant's audit-chain lock in every send, behind a batch
    chunk that holds it until it commits (docs/benchmarks.md, consent_fanout).
    """
    consent_requests_mark_delivery(request_ids=[request.pk], status=status)


def consent_requests_mark_delivery(*, request_ids: list[int], status: str) -> int:
    """``consent_request_mark_delivery`` by id, in one conditional UPDATE (a send's result
    is recorded with it: notifications' status signal, consent.delivery): an open request
    not yet expired takes the status; an answered or expired one stays. Returns how many."""
    if status not in (RequestStatus.SENT, RequestStatus.DELIVERED, RequestStatus.FAILED):
        raise ValueError(status)
    now = timezone.now()
    return ConsentRequest.objects.filter(
        pk__in=request_ids, status__in=OPEN_STATUSES, expires_at__gt=now
    ).update(status=status, updated_at=now)


@transaction.atomic
def consent_request_expire(*, request: ConsentRequest, actor: Actor) -> bool:
    """Mark an unanswered request past its expiry as expired (idempotent)."""
    request = ConsentRequest.objects.select_for_update().get(pk=request.pk)
    if request.status not in OPEN_STATUSES or request.expires_at > timezone.now():
        return False
    request.status = RequestStatus.EXPIRED
    request.save(update_fields=["status", "updated_at"])
    selectors.forget_registry_states()
    state = selectors.consent_state_of(request.customer)
    if state and state.status == ConsentStatus.REQUESTED and state.last_request_id == request.pk:
        _state_set(request.customer, status=ConsentStatus.EXPIRED)
    audit_record(
        action="consent.request_expired",
        actor=actor,
        object_type="consent.request",
        object_id=request.pk,
    )
    return True


# ---------------------------------------------------------------------------
# Decisions


def _clean_context(context) -> dict:
    if context in (None, ""):
        return {}
    if not isinstance(context, dict) or set(context) - set(CONTEXT_KEYS):
        raise ValidationError({"context": _("Only store, terminal and staff may be given.")})
    cleaned = {}
    for key, value in context.items():
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 100:
            raise ValidationError({"context": _("Each value is a text of at most 100 characters.")})
        cleaned[key] = value
    return cleaned


@transaction.atomic
def consent_record(
    *,
    customer,
    decision: str,
    method: str,
    actor: Actor,
    terms_version: int | None = None,
    language: str | None = None,
    note: str = "",
    how: str = "",
    context: dict | None = None,
    request: ConsentRequest | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> ConsentDecision:
    """Record one decision as proof and update the customer's current state.

    The terms are the request's (when answering one) or ``terms_version`` in
    ``language`` (the customer's or the tenant's language by default). Giving
    consent needs the terms that were shown; declining or withdrawing does not.
    """
    from .lifecycle import valid_until_for

    tenant = require_tenant()
    if decision not in Decision.values:
        raise ValidationError({"decision": _("Choose granted, declined or withdrawn.")})
    if method not in Method.values:
        raise ValidationError({"method": _("Choose link, sms_reply, pos or manual.")})
    if how and how not in ManualHow.values:
        raise ValidationError({"how": _("Choose paper, phone, in_person or other.")})
    if request is not None and request.customer_id != customer.pk:
        raise ValidationError({"request": _("The request belongs to another customer.")})
    context = _clean_context(context)
    language = language or (request.language if request else None)
    language = language or customer.language or tenant.default_language
    if request is not None and terms_version is None:
        terms = request.terms
    elif terms_version is not None:
        terms = selectors.terms_version_get(language=language, version=terms_version)
        if terms is None:
            raise ValidationError(
                {"terms_version": _("No consent text has this version in this language.")}
            )
    else:
        state = selectors.consent_state_of(customer)
        terms = (
            selectors.terms_version_get(language=language, version=state.terms_version)
            if state and state.terms_version
            else None
        )
    if decision == Decision.GRANTED and terms is None:
        raise ValidationError({"terms_version": _("Say which version of the text was shown.")})
    now = timezone.now()
    proof = ConsentDecision(
        tenant=tenant,
        customer=customer,
        decision=decision,
        method=method,
        terms=terms,
        terms_version=terms.version if terms else None,
        terms_language=terms.language if terms else "",
        terms_sha256=terms.text_sha256 if terms else "",
        decided_at=now,
        actor_type=actor.type,
        actor_id=str(actor.id),
        ip=ip or None,
        user_agent=(user_agent or "")[:500],
        request=request,
        context=context,
        how=how,
        note=note or "",
    )
    proof.save()
    if request is not None and decision in DECISION_TO_REQUEST:
        ConsentRequest.objects.filter(pk=request.pk).update(
            status=DECISION_TO_REQUEST[decision], updated_at=now
        )
    _state_set(
        customer,
        status=decision,
        terms_version=proof.terms_version,
        decided_at=now,
        method=method,
        # A grant holds for the tenant's consent_valid_months (consent.lifecycle);
        # any decision ends a pending renewal.
        valid_until=valid_until_for(decided_at=now) if decision == Decision.GRANTED else None,
        renewal_requested_at=None,
    )
    audit_record(
        action=f"consent.{decision}",
        actor=actor,
        object_type="consent.decision",
        object_id=proof.pk,
        data={
            "customer_id": customer.pk,
            "method": method,
            "terms_version": proof.terms_version,
            "request_id": request.pk if request else None,
        },
    )
    return proof


def consent_decision_scrub(*, customer=None, decision_ids=None) -> int:
    """Erasure: blank IP, user agent, POS context and note of decisions (append-only).

    The erasure engine passes a chunk's ``decision_ids`` (consent/pii.py); ``customer``
    scrubs one customer's. Only rows of the active tenant change.
    """
    require_tenant()
    if decision_ids is None:
        decision_ids = list(
            ConsentDecision.objects.filter(customer=customer).values_list("pk", flat=True)
        )
    if not decision_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT consent_decision_scrub(%s::bigint[])", [list(decision_ids)])
        return cursor.fetchone()[0]
