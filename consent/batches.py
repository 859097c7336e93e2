"""Consent requests to many customers at once (Avance: "Begär samtycke" from the search).

A batch is started in one transaction: the batch row, one item per customer (written by
the database, ``INSERT … SELECT``, never a Python object per customer) and one audit
entry; the task is sent after commit. A worker then takes the PENDING items in chunks of
:data:`CHUNK_SIZE`, each chunk in one transaction, and asks its customers set-based
(consent.batch_chunk) by the rule functions ``consent_request_create`` uses for a single
request. See consent/README.md, "Batches".
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actors import Actor
from audit.services import audit_record
from config.bulk import update_rows
from customers.models import Customer, CustomerStatus
from notifications.models import Status as MessageStatus
from tenancy.context import require_tenant
from tenancy.memo import batch_reads

from . import selectors
from .batch_chunk import NO_ADDRESS, ItemResult, chunk_ask
from .models import (
    BatchOutcome,
    BatchSource,
    BatchStatus,
    Channel,
    ConsentBatch,
    ConsentBatchItem,
)
from .services import NoAddressError, OpenRequestExists, consent_request_create

logger = logging.getLogger(__name__)

ANY = "any"
CHANNELS = (Channel.EMAIL.value, Channel.SMS.value, ANY)
# Customers per task run (one transaction). The per-request audit entry holds the tenant's
# audit lock until the chunk commits, so a larger chunk makes colleagues wait longer.
# Small enough that the audit chain's per-tenant lock, held until a chunk commits, keeps
# a colleague's save waiting well under a second (README: Audit).
CHUNK_SIZE = settings.CONSENT_BATCH_CHUNK_SIZE
# Ids per INSERT when the caller hands plain ids rather than a queryset.
INSERT_CHUNK = 5000

# Item error codes (stored, never personal) and how the "could not reach" list says them.
ERRORS = {
    "no_email": _("No email address"),
    "no_mobile": _("No mobile number"),
    "no_address": _("Neither email nor mobile number"),
    "sms_not_enabled": _("SMS is not enabled for the company"),
    "sms_cap_reached": _("The company's monthly SMS limit is reached"),
    "no_terms": _("No consent text in the customer's language"),
    "invalid": _("The request could not be created"),
    "open_request": _("Already asked, no answer yet"),
}

_ITEM_TABLE = ConsentBatchItem._meta.db_table
_MAX_ID = 2**63  # ids are bigints; anything else matches no customer


def channel_choices():
    return [
        (Channel.EMAIL.value, _("Email")),
        (Channel.SMS.value, _("SMS")),
        (ANY, _("Email or SMS, whichever the customer has")),
    ]


def error_label(code: str) -> str:
    return str(ERRORS.get(code, ERRORS["invalid"]))


# ---------------------------------------------------------------------------
# Reads for the confirmation page


@dataclass(frozen=True)
class Reach:
    total: int
    email: int  # customers with an email address
    mobile_only: int  # a mobile number but no email
    neither: int
    mobile: int  # customers with a mobile number (with or without email)
    reachable: int  # customers the chosen channel reaches


def reach_of(customers: QuerySet[Customer], *, channel: str) -> Reach:
    """How many of ``customers`` have email / mobile / neither (one aggregate query)."""
    has_email, has_mobile = ~Q(email=""), ~Q(mobile="")
    counts = (
        customers.exclude(status=CustomerStatus.ANONYMIZED)
        .order_by()
        .aggregate(
            n_total=Count("pk"),
            n_email=Count("pk", filter=has_email),
            n_mobile=Count("pk", filter=has_mobile),
            n_mobile_only=Count("pk", filter=has_mobile & Q(email="")),
        )
    )
    total, email, mobile = counts["n_total"], counts["n_email"], counts["n_mobile"]
    mobile_only = counts["n_mobile_only"]
    reachable = {Channel.EMAIL: email, Channel.SMS: mobile}.get(channel, email + mobile_only)
    return Reach(
        total=total,
        email=email,
        mobile_only=mobile_only,
        neither=total - email - mobile_only,
        mobile=mobile,
        reachable=reachable,
    )


# ---------------------------------------------------------------------------
# Start


def _insert_items(batch: ConsentBatch, customer_ids) -> int:
    """Write the batch's items in the database; return how many customers it holds.

    A queryset becomes one ``INSERT … SELECT`` (no id passes through Python); other
    iterables are consumed INSERT_CHUNK ids at a time. Either way only the active
    tenant's customers are taken (ORM scope, the explicit tenant_id and row security),
    anonymized customers are left out, and a customer is in a batch once.
    """
    tenant_id = batch.tenant_id
    # Only the table name is formatted in (a constant); every value is a parameter.
    head = (
        f"INSERT INTO {_ITEM_TABLE} (tenant_id, batch_id, customer_id, outcome, error) "  # noqa: S608
        f"SELECT %s, %s, c.id, %s, '' FROM {Customer._meta.db_table} c "
        "WHERE c.tenant_id = %s AND c.status <> %s AND c.id IN "
    )
    fixed = [tenant_id, batch.pk, BatchOutcome.PENDING, tenant_id, CustomerStatus.ANONYMIZED]
    tail = " ON CONFLICT (tenant_id, batch_id, customer_id) DO NOTHING"
    total = 0
    with connection.cursor() as cursor:
        if isinstance(customer_ids, QuerySet) and customer_ids.model is Customer:
            ids = customer_ids.order_by().values("pk")
            sub_sql, sub_params = ids.query.sql_with_params()
            cursor.execute(f"{head}({sub_sql}){tail}", [*fixed, *sub_params])
            return cursor.rowcount
        iterator = iter(customer_ids)
        while chunk := list(islice(iterator, INSERT_CHUNK)):
            try:
                ids = sorted({pk for pk in map(int, chunk) if 0 < pk < _MAX_ID})
            except (TypeError, ValueError):
                raise ValidationError(
                    {"customers": _("The customers are given by their numeric ids.")}
                ) from None
            cursor.execute(f"{head}(SELECT unnest(%s::bigint[])){tail}", [*fixed, ids])
            total += cursor.rowcount
    return total


@transaction.atomic
def consent_batch_start(
    *, customer_ids: Iterable[int], channel: str, source: str, actor: Actor
) -> ConsentBatch:
    """Start asking ``customer_ids`` for consent by ``channel`` (email, sms or any).

    ``customer_ids`` may be a queryset of customers (the fast path) or any iterable of
    ids. Other tenants' ids and anonymized customers are silently left out; when no
    customer is left the batch is not created (ValidationError on ``customers``).
    """
    from .tasks import consent_batch_work

    tenant = require_tenant()
    if channel not in CHANNELS:
        raise ValidationError({"channel": _("Choose email, SMS or whichever the customer has.")})
    if source not in BatchSource.values:
        raise ValidationError({"source": _("Unknown source of the customers.")})
    batch = ConsentBatch.objects.create(
        tenant=tenant,
        channel=channel,
        source=source,
        status=BatchStatus.PENDING,
        created_by=actor.signed_in_user(),
        actor_type=actor.type,
        actor_id=str(actor.id),
    )
    total = _insert_items(batch, customer_ids)
    if not total:
        # Raising rolls the batch row back: nothing is created.
        raise ValidationError({"customers": _("There are no customers to ask.")})
    batch.total = total
    batch.save(update_fields=["total"])
    audit_record(
        action="consent.batch_started",
        actor=actor,
        object_type="consent.batch",
        object_id=batch.pk,
        data={"source": source, "channel": channel, "total": total},
    )
    consent_batch_work.enqueue(batch.pk)
    return batch


# ---------------------------------------------------------------------------
# The work, one chunk per task run


def _error_code(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        codes = [e.code for errors in exc.error_dict.values() for e in errors]
    else:
        codes = [e.code for e in exc.error_list]
    code = next((c for c in codes if c), "")
    return code if code in ERRORS else "invalid"


def unsettled_messages(batch_id: int) -> int:
    """The batch's messages that no provider has taken or refused yet (queued, sending)."""
    return selectors.batch_message_count(
        batch_id, statuses=[MessageStatus.QUEUED, MessageStatus.SENDING]
    )


def _finish(batch_id: int, actor: Actor) -> bool:
    """Mark the batch done once no customer and no message waits; True for the one caller.

    A batch whose requests are all created but whose messages are still queued or being
    sent stays "Sending": done means every message was taken by the provider, failed
    with a reason, or waits for a person's decision (notifications: uncertain).
    """
    if ConsentBatchItem.objects.filter(batch_id=batch_id, outcome=BatchOutcome.PENDING).exists():
        return False
    if unsettled_messages(batch_id):
        return False
    done = ConsentBatch.objects.filter(
        pk=batch_id, status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]
    ).update(status=BatchStatus.DONE, finished_at=timezone.now())
    if not done:
        return False
    batch = ConsentBatch.objects.get(pk=batch_id)
    audit_record(
        action="consent.batch_finished",
        actor=actor,
        object_type="consent.batch",
        object_id=batch.pk,
        data={
            "total": batch.total,
            "sent": batch.sent,
            "skipped": batch.skipped,
            "failed": batch.failed,
        },
    )
    return True


@transaction.atomic
def consent_batch_chunk(
    *, batch_id: int, limit: int | None = None, one_by_one: bool = False
) -> bool:
    """Ask the next ``limit`` waiting customers of the batch; True while more wait.

    Safe to run twice and side by side: the chunk's items are claimed with
    ``FOR UPDATE SKIP LOCKED`` among those still PENDING, and each leaves PENDING in
    this same transaction, so an item already SENT, SKIPPED or FAILED is never asked
    again and two workers never take the same item.

    The chunk is asked set-based (consent.batch_chunk: a few statements for all of its
    customers). ``one_by_one`` asks each through ``consent_request_create`` instead: the
    reference the set-based path is tested against (tests/consent/test_batch_setbased.py)
    and the benchmark's baseline.
    """
    limit = limit or CHUNK_SIZE
    batch = ConsentBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status not in (BatchStatus.PENDING, BatchStatus.RUNNING):
        return False
    actor = Actor(batch.actor_type, batch.actor_id)
    ConsentBatch.objects.filter(pk=batch_id, status=BatchStatus.PENDING).update(
        status=BatchStatus.RUNNING
    )
    ConsentBatch.objects.filter(pk=batch_id).update(worked_at=timezone.now())
    claimed = list(
        ConsentBatchItem.objects.select_for_update(skip_locked=True)
        .filter(batch_id=batch_id, outcome=BatchOutcome.PENDING)
        .order_by("pk")
        .values_list("pk", "customer_id")[:limit]
    )
    if not claimed:
        _finish(batch_id, actor)
        return False
    if one_by_one:
        results = _ask_one_by_one(batch, claimed, actor)
    else:
        results = chunk_ask(batch=batch, claimed=claimed)
    update_rows(
        ConsentBatchItem,
        ["outcome", "request", "error"],
        [(r.item_id, r.outcome, r.request_id, r.error) for r in results],
    )
    counts = Counter(r.outcome for r in results)
    ConsentBatch.objects.filter(pk=batch_id).update(
        sent=F("sent") + counts[BatchOutcome.SENT],
        skipped=F("skipped") + counts[BatchOutcome.SKIPPED],
        failed=F("failed") + counts[BatchOutcome.FAILED],
    )
    if len(claimed) < limit:
        return not _finish(batch_id, actor) and _waiting(batch_id)
    return True


def _ask_one_by_one(batch: ConsentBatch, claimed, actor: Actor) -> list[ItemResult]:
    """Each customer through ``consent_request_create`` in its own savepoint (the path
    before issue 13, kept as the reference and the baseline)."""
    # The terms and settings every request reads, read once for the chunk.
    with batch_reads():
        customers = Customer.objects.in_bulk([customer_id for _pk, customer_id in claimed])
        # A language without terms fails its customers without an attempt each.
        default_language = require_tenant().default_language
        languages = {c.language or default_language for c in customers.values()}
        has_terms = {lang: selectors.terms_current(language=lang) is not None for lang in languages}
        results = []
        for item_pk, customer_id in claimed:
            result = ItemResult(item_id=item_pk, customer_id=customer_id)
            customer = customers.get(customer_id)
            if customer is None or customer.status == CustomerStatus.ANONYMIZED:
                result.outcome, result.error = BatchOutcome.FAILED, "invalid"
            elif not has_terms.get(customer.language or default_language):
                result.outcome, result.error = BatchOutcome.FAILED, "no_terms"
            else:
                try:
                    request, _token = consent_request_create(
                        customer=customer, channel=batch.channel, actor=actor, batch=batch
                    )
                except NoAddressError:
                    result.outcome, result.error = BatchOutcome.SKIPPED, NO_ADDRESS[batch.channel]
                except OpenRequestExists:
                    # Not asked twice at once (the request that waits is not the batch's:
                    # its message is not counted among the batch's).
                    result.outcome, result.error = BatchOutcome.SKIPPED, "open_request"
                except ValidationError as exc:
                    result.outcome, result.error = BatchOutcome.FAILED, _error_code(exc)
                else:
                    result.outcome, result.request_id = BatchOutcome.SENT, request.pk
            results.append(result)
    return results


@transaction.atomic
def consent_batch_try_finish(*, batch_id: int) -> bool:
    """Done if no customer and no message of the batch waits; True when it is done now."""
    batch = ConsentBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return False
    if batch.status == BatchStatus.DONE:
        return True
    return _finish(batch_id, Actor(batch.actor_type, batch.actor_id))


def consent_batches_resume(*, stalled_after: timedelta) -> dict[str, int]:
    """The active tenant's batches left running: resume lost chunks, finish settled ones.

    A batch with waiting customers whose last chunk ran longer ago than ``stalled_after``
    lost its task (the worker was killed, the broker restarted): its next chunk is sent
    again. Two chunk tasks side by side are harmless (items are claimed SKIP LOCKED). A
    batch with no waiting customer is marked done once its messages have settled.
    """
    from .tasks import consent_batch_work

    now = timezone.now()
    resumed = finished = 0
    batches = ConsentBatch.objects.filter(status__in=[BatchStatus.PENDING, BatchStatus.RUNNING])
    for batch in batches.order_by("pk"):
        if _waiting(batch.pk):
            last = batch.worked_at or batch.created_at
            if last < now - stalled_after:
                ConsentBatch.objects.filter(pk=batch.pk).update(worked_at=now)
                consent_batch_work.enqueue(batch.pk)
                resumed += 1
        else:
            with transaction.atomic():
                finished += _finish(batch.pk, Actor(batch.actor_type, batch.actor_id))
    return {"resumed": resumed, "finished": finished}


def _waiting(batch_id: int) -> bool:
    return ConsentBatchItem.objects.filter(batch_id=batch_id, outcome=BatchOutcome.PENDING).exists()


@transaction.atomic
def consent_batch_stop(*, batch_id: int, reason: str) -> bool:
    """Stop a batch that cannot go on (an unexpected error); its waiting items stay PENDING."""
    stopped = ConsentBatch.objects.filter(
        pk=batch_id, status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]
    ).update(status=BatchStatus.FAILED, finished_at=timezone.now())
    if stopped:
        batch = ConsentBatch.objects.get(pk=batch_id)
        audit_record(
            action="consent.batch_stopped",
            actor=Actor.system("consent.batches"),
            object_type="consent.batch",
            object_id=batch_id,
            data={
                "reason": reason[:100],
                "sent": batch.sent,
                "skipped": batch.skipped,
                "failed": batch.failed,
            },
        )
    return bool(stopped)
