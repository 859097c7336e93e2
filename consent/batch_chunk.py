"""One chunk of a consent batch, set-based: its customers become requests in a few statements.

``consent_request_create`` asks one customer in about a dozen statements (lock, open-request
check, id, insert, state upsert, audit, reply route, cap, message, dispatch stamp) and one
broker call. A chunk of a batch asks hundreds, so here each of those steps runs once for
the whole chunk: one advisory-lock statement, one read that classifies the customers
(contact data, language, anonymized, an open request), one cap UPDATE for its SMS, the
ids from the sequence in one statement, one INSERT of the requests, one upsert of the
states, their reply routes, the audit entries, one INSERT of the messages, and their send
tasks after the commit over one broker connection.

The per-request rules are the single path's own functions (consent.services
``request_channel``, ``request_language``, ``request_expiry``, ``request_token_hash``,
``requested_audit_data``; consent.delivery ``request_message_context``; replies'
``number_key``/``new_code``), applied in the order ``consent_batch_chunk`` applied them one
by one: no terms in the customer's language, an open request, no address for the channel,
SMS not subscribed, the monthly SMS cap (the chunk's first SMS in item order get what is
left of it). tests/consent/test_batch_setbased.py runs both paths on twin data and compares
them field by field.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.actors import Actor
from audit.services import AuditEntry, audit_record_many
from config.bulk import insert_rows
from customers.models import Customer, CustomerStatus
from notifications.queue_many import Outgoing, message_queue_many, sms_month_take_many
from notifications.selectors import notification_settings, sms_sender_key
from tenancy.context import require_tenant
from tenancy.memo import batch_reads

from . import selectors, tokens
from .delivery import REFERENCE_PREFIX, TEMPLATE, request_message_context
from .models import (
    BatchOutcome,
    Channel,
    ConsentBatch,
    ConsentRequest,
    ConsentStatus,
    ReplyRoute,
    RequestStatus,
)
from .replies import ROUTE_KEEP, new_code, number_key
from .services import (
    LANGUAGES,
    REQUESTED,
    WAITING_STATUSES,
    lock_customers,
    request_channel,
    request_expiry,
    request_language,
    request_token_hash,
    requested_audit_data,
)

# Why a customer was not asked, by channel (batches.ERRORS holds the labels).
NO_ADDRESS = {Channel.EMAIL.value: "no_email", Channel.SMS.value: "no_mobile", "any": "no_address"}


@dataclass
class ItemResult:
    """What became of one claimed item: an outcome, a request id or an error code."""

    item_id: int
    customer_id: int
    outcome: str = BatchOutcome.PENDING
    request_id: int | None = None
    error: str = ""


def _customers(customer_ids: list[int], now) -> dict[int, Customer]:
    """The chunk's customers with what the rules read, and whether each has a request
    waiting for an answer (``services.open_request_of``), in one query."""
    # The chunk's own customers named in the subquery too: without them the planner hashes
    # every open request of the tenant once per chunk (a scan that grows with the tenant).
    waiting = ConsentRequest.objects.filter(
        customer=OuterRef("pk"),
        customer_id__in=customer_ids,
        status__in=WAITING_STATUSES,
        expires_at__gt=now,
    )
    rows = (
        Customer.objects.filter(pk__in=customer_ids)
        .only("id", "tenant_id", "name", "email", "mobile", "language", "status")
        .annotate(waiting=Exists(waiting))
        .order_by()  # not the model's ordering by name: a dict is made of them
    )
    return {c.pk: c for c in rows}


def _ids(count: int) -> list[int]:
    """``count`` request ids from the table's sequence (the tokens are derived from them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [ConsentRequest._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _reply_codes_assign(requests: list[ConsentRequest], tenant) -> None:
    """``replies.reply_code_assign`` for many SMS requests: one DELETE of lapsed routes, one
    read of the codes taken per number, one INSERT of the new routes (a code a concurrent
    writer took in between is drawn again)."""
    sender = sms_sender_key()
    now = timezone.now()
    keys = {r.pk: number_key(r.destination, tenant.country) for r in requests}
    routes = ReplyRoute.objects.filter(sender=sender, number_key__in=set(keys.values()))
    routes.filter(keep_until__lte=now).delete()
    taken: dict[str, set[str]] = {}
    for key, code in routes.values_list("number_key", "code"):
        taken.setdefault(key, set()).add(code)
    pending = list(requests)
    for _attempt in range(50):
        for request in pending:
            codes = taken.setdefault(keys[request.pk], set())
            code = new_code()
            while code in codes:
                code = new_code()
            codes.add(code)
            request.sms_reply_code = code
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO consent_replyroute "
                "(sender, number_key, code, tenant_id, request_id, created_at, keep_until) "
                "SELECT %s, k, c, %s, r, %s, e "
                "FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::timestamptz[]) "
                "AS v(k, c, r, e) "
                "ON CONFLICT ON CONSTRAINT consent_reply_route_uniq DO NOTHING "
                "RETURNING request_id",
                [
                    sender,
                    tenant.pk,
                    now,
                    [keys[r.pk] for r in pending],
                    [r.sms_reply_code for r in pending],
                    [r.pk for r in pending],
                    [r.expires_at + ROUTE_KEEP for r in pending],
                ],
            )
            done = {row[0] for row in cursor.fetchall()}
        pending = [r for r in pending if r.pk not in done]
        if not pending:
            return
    raise RuntimeError(f"No free reply code for consent requests {[r.pk for r in pending]}.")


def _states_requested(requests: list[ConsentRequest]) -> None:
    """``services._state_requested`` for many requests in one upsert."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO consent_consentstate
                (tenant_id, customer_id, status, method, last_request_id, updated_at)
            SELECT %s, c, %s, '', r, now()
              FROM unnest(%s::bigint[], %s::bigint[]) AS v(c, r)
            ON CONFLICT (tenant_id, customer_id) DO UPDATE
               SET status = EXCLUDED.status, last_request_id = EXCLUDED.last_request_id,
                   updated_at = EXCLUDED.updated_at
             WHERE consent_consentstate.status <> %s
            """,
            [
                require_tenant().pk,
                ConsentStatus.REQUESTED,
                [r.customer_id for r in requests],
                [r.pk for r in requests],
                ConsentStatus.GRANTED,
            ],
        )
    selectors.forget_registry_states()


def chunk_ask(*, batch: ConsentBatch, claimed: list[tuple[int, int]]) -> list[ItemResult]:
    """Ask the customers of ``claimed`` ((item id, customer id) in item order) for consent.

    Runs inside the chunk's transaction (consent.batches.consent_batch_chunk), which marks
    the items with the results in the same commit.
    """
    with batch_reads():  # the terms and the tenant's settings: read once for the chunk
        return _ask(batch, claimed)


def _ask(batch: ConsentBatch, claimed: list[tuple[int, int]]) -> list[ItemResult]:
    tenant = require_tenant()
    actor = Actor(batch.actor_type, batch.actor_id)
    results = [ItemResult(item_id=i, customer_id=c) for i, c in claimed]
    # Of two requests to one customer at once the second must see the first: the single
    # path's per-customer lock, taken for the whole chunk before anything is read.
    lock_customers(sorted({r.customer_id for r in results}))
    now = timezone.now()
    customers = _customers([r.customer_id for r in results], now)
    terms_of: dict[str, object] = {}
    settings = notification_settings()
    asked: list[tuple[ItemResult, Customer, str, str, str]] = []
    sms: list[int] = []  # indexes into ``asked`` of the SMS, in item order
    for result in results:
        customer = customers.get(result.customer_id)
        if customer is None or customer.status == CustomerStatus.ANONYMIZED:
            result.outcome, result.error = BatchOutcome.FAILED, "invalid"
            continue
        language = request_language(customer, tenant)
        if language not in terms_of:
            terms_of[language] = selectors.terms_current(language=language)
        if terms_of[language] is None:
            result.outcome, result.error = BatchOutcome.FAILED, "no_terms"
        elif customer.waiting:
            result.outcome, result.error = BatchOutcome.SKIPPED, "open_request"
        else:
            try:
                channel, destination = request_channel(customer, batch.channel)
            except ValidationError:
                result.outcome, result.error = BatchOutcome.SKIPPED, NO_ADDRESS[batch.channel]
                continue
            if language not in LANGUAGES:
                result.outcome, result.error = BatchOutcome.FAILED, "invalid"
            elif channel == Channel.SMS and not settings.sms_enabled:
                result.outcome, result.error = BatchOutcome.FAILED, "sms_not_enabled"
            else:
                if channel == Channel.SMS:
                    sms.append(len(asked))
                asked.append((result, customer, channel, destination, language))
    allowed = sms_month_take_many(len(sms))
    over_cap = set(sms[allowed:])
    for index in over_cap:
        result = asked[index][0]
        result.outcome, result.error = BatchOutcome.FAILED, "sms_cap_reached"
    asked = [a for index, a in enumerate(asked) if index not in over_cap]
    if not asked:
        return results
    now = timezone.now()
    expires_at = request_expiry(now)
    created_by = actor.signed_in_user()
    requests = []
    for (result, customer, channel, destination, language), request_id in zip(
        asked, _ids(len(asked)), strict=True
    ):
        _token, token_hash = request_token_hash(request_id)
        request = ConsentRequest(
            pk=request_id,
            tenant=tenant,
            customer=customer,
            channel=channel,
            destination=destination,
            language=language,
            terms=terms_of[language],
            token_hash=token_hash,
            status=RequestStatus.QUEUED,
            expires_at=expires_at,
            created_at=now,
            created_by=created_by,
            actor_type=actor.type,
            actor_id=str(actor.id),
            batch=batch,
            dispatch_ready_at=now,
        )
        requests.append(request)
        result.outcome, result.request_id = BatchOutcome.SENT, request_id
    _reply_codes_assign([r for r in requests if r.channel == Channel.SMS], tenant)
    insert_rows(
        ConsentRequest,
        [
            {
                "id": r.pk,
                "tenant_id": r.tenant_id,
                "customer_id": r.customer_id,
                "channel": r.channel,
                "destination": r.destination,
                "language": r.language,
                "terms_id": r.terms_id,
                "token_hash": r.token_hash,
                "status": r.status,
                "expires_at": r.expires_at,
                "created_at": r.created_at,
                "created_by_id": r.created_by_id,
                "actor_type": r.actor_type,
                "actor_id": r.actor_id,
                "batch_id": r.batch_id,
                "dispatch_ready_at": r.dispatch_ready_at,
                "sms_reply_code": r.sms_reply_code,
            }
            for r in requests
        ],
    )
    _states_requested(requests)
    audit_record_many(
        actor=actor,
        entries=(
            AuditEntry(
                action=REQUESTED,
                object_type="consent.request",
                object_id=r.pk,
                data=requested_audit_data(
                    customer_id=r.customer_id, channel=r.channel, language=r.language, terms=r.terms
                ),
            )
            for r in requests
        ),
    )
    message_queue_many(
        template=TEMPLATE,
        outgoing=[
            Outgoing(
                channel=r.channel,
                to=r.destination,
                language=r.language,
                context=request_message_context(
                    r, tenant=tenant, link=tokens.link_marker(r.pk, tokens.FIRST)
                ),
                customer_id=r.customer_id,
                reference=f"{REFERENCE_PREFIX}{r.pk}",
            )
            for r in requests
        ],
    )
    return results
