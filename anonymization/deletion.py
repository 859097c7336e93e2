"""Mass deletion (issue 10 item 5, after Avance's "Massradera"): propose, then delete in chunks.

**What keeps a customer.** A customer may be deleted only when nothing that outlives it
refers to it (docs/design.md, "Legal rules"). That is read from the foreign-key graph, not
from a list of apps: every relation to ``customers.Customer`` whose ``on_delete`` is not
CASCADE keeps the customer (PROTECT and RESTRICT would refuse the delete; SET_NULL would
leave the row, with the person's data in it, pointing at no one, beyond the reach of
any later erasure). Today that is:

=================================  ============  ============================================
relation                           on_delete     reason code
=================================  ============  ============================================
sales.SalesDocument.customer       PROTECT       ``sales_documents`` (the books keep them)
anonymization.LegalHold.customer   PROTECT       ``legal_hold`` (active) /
                                                 ``legal_hold_record`` (lifted: the record of
                                                 a dispute is kept)
consent.ConsentDecision.customer   PROTECT       ``consent_proof``: decisions are append-only
                                                 proof (the database refuses DELETE); such a
                                                 customer can only be anonymized
consent.ConsentRequest.customer    PROTECT       ``consent_requests`` (what was asked, when)
notifications.OutboundMessage      SET_NULL      ``messages`` (their provider events are
                                                 append-only, so the messages cannot go)
any other such relation            (not CASCADE) ``ref:<app_label.model>``
=================================  ============  ============================================

and one CASCADE relation that must not be cut mid-way: a customer still waiting in an
anonymization run that is queued or running (``anonymization_pending``).

Each reason is one ``EXISTS`` per relation over the whole queryset (never a query per
customer). An **anonymized** customer may be deleted too when nothing keeps it: the row
was kept for the books, and with no sales document nothing needs it any more.

**What goes with a customer**: everything that CASCADEs from it (addresses, consignees,
keys, designations, ID cards, notes and tasks, files and links, change history, group
links, selections, consent state and batch items, finished anonymization-run items),
deleted by Django's collector set-based (one ``DELETE … WHERE customer_id IN (…)`` per
model); its contact persons linked to no other customer (with their keys and roles; a
contact shared with a customer that stays only loses its link), found through the PII
registry's shared reaches; and the stored files of its attachments, deleted from the
storage after commit. The private search copy goes by its own ``ON DELETE CASCADE``.

**Runs** follow anonymization runs (``anonymization/runs.py``): starting writes the run
and one item per deletable customer (ids only) and sends the first chunk; each chunk is
one transaction that locks the run, claims its items ``FOR UPDATE SKIP LOCKED``, locks
the customers (a new sales document for one of them waits for the chunk's commit), checks
every reason again (one that became undeletable since the proposal is skipped with its
reason), deletes the rest and writes one audit entry ``customer.mass_deleted`` with ids
and counts. ``_after_chunk`` runs once the chunk is committed: the one place where the
deleted ids are known outside the transaction (stored files are deleted there).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.actors import Actor
from audit.services import audit_record
from customers.models import Customer
from tenancy.context import require_tenant

from .journal import journal_record
from .models import (
    AnonymizationRunItem,
    DeletionOutcome,
    DeletionRun,
    DeletionRunItem,
    ItemOutcome,
    LegalHold,
    RunStatus,
)
from .registry import pii

log = logging.getLogger(__name__)

NOTE_MAX = 500

# Typed by the person who executes a deletion, in the language of the page they see.
CONFIRMATION_PHRASES = {
    "en": "Delete customers",
    "sv": "Radera kunder",
    "da": "Slet kunder",
    "nb": "Slett kunder",
}

SALES_DOCUMENTS = "sales_documents"
LEGAL_HOLD = "legal_hold"
LEGAL_HOLD_RECORD = "legal_hold_record"
CONSENT_PROOF = "consent_proof"
CONSENT_REQUESTS = "consent_requests"
MESSAGES = "messages"
ANONYMIZATION_PENDING = "anonymization_pending"
NOT_FOUND = "not_found"

REASON_LABELS = {
    SALES_DOCUMENTS: gettext_lazy("Used in sales documents"),
    LEGAL_HOLD: gettext_lazy("On legal hold"),
    LEGAL_HOLD_RECORD: gettext_lazy("Was on legal hold (its record is kept)"),
    CONSENT_PROOF: gettext_lazy("Has consent proof (can only be anonymized)"),
    CONSENT_REQUESTS: gettext_lazy("Has consent requests"),
    MESSAGES: gettext_lazy("Has sent messages"),
    ANONYMIZATION_PENDING: gettext_lazy("Waiting in an anonymization run"),
    NOT_FOUND: gettext_lazy("Not found in this company"),
}

# The relations with a reason of their own, by model label; any other relation to a
# customer that is not CASCADE is reported as ``ref:<app_label.model>``.
_NAMED = {
    "sales.salesdocument": SALES_DOCUMENTS,
    "consent.consentdecision": CONSENT_PROOF,
    "consent.consentrequest": CONSENT_REQUESTS,
    "notifications.outboundmessage": MESSAGES,
}


def confirmation_phrase(language: str) -> str:
    return CONFIRMATION_PHRASES.get(language, CONFIRMATION_PHRASES["en"])


def phrase_matches(typed: str, language: str) -> bool:
    """Case and surrounding spaces aside, the phrase of ``language`` exactly."""
    return " ".join((typed or "").split()).casefold() == confirmation_phrase(language).casefold()


def chunk_size() -> int:
    return settings.ANONYMIZATION_CHUNK_SIZE


def reason_label(code: str) -> str:
    if code in REASON_LABELS:
        return str(REASON_LABELS[code])
    if code.startswith("ref:"):
        try:
            model = apps.get_model(code[4:])
        except (LookupError, ValueError):
            return code
        return _("Used in %(what)s") % {"what": model._meta.verbose_name_plural}
    return code


# --- What keeps a customer ------------------------------------------------------------


@functools.cache
def _relations() -> tuple[tuple[str, type[models.Model], str, tuple], ...]:
    """(reason code, model, field, extra filter) per relation that keeps a customer,
    in display order. Read once from the model graph."""
    found = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if not f.is_relation or f.related_model is not Customer:
                continue
            if f.remote_field.on_delete is models.CASCADE:
                continue
            if model is LegalHold:
                found.append((LEGAL_HOLD, model, f.name, (("lifted_at__isnull", True),)))
                found.append((LEGAL_HOLD_RECORD, model, f.name, (("lifted_at__isnull", False),)))
                continue
            label = model._meta.label_lower
            found.append((_NAMED.get(label, f"ref:{label}"[:40]), model, f.name, ()))
    pending = (
        ("outcome", ItemOutcome.PENDING),
        ("run__status__in", (RunStatus.QUEUED, RunStatus.RUNNING)),
    )
    found.append((ANONYMIZATION_PENDING, AnonymizationRunItem, "customer", pending))
    order = [*REASON_LABELS]
    return tuple(sorted(found, key=lambda r: (order.index(r[0]) if r[0] in order else 99, r[0])))


def _checks() -> list[tuple[str, Exists]]:
    """(reason code, EXISTS over the rows that keep ``OuterRef("pk")``)."""
    return [
        (code, Exists(model._default_manager.filter(**{name: OuterRef("pk")}, **dict(extra))))
        for code, model, name, extra in _relations()
    ]


def _flag(i: int) -> str:
    return f"_keeps_{i}"


def annotate_reasons(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """``queryset`` with one boolean per reason (read them with ``reasons_of``)."""
    return queryset.annotate(**{_flag(i): check for i, (_c, check) in enumerate(_checks())})


def _any_reason() -> Q:
    q = Q()
    for i in range(len(_relations())):
        q |= Q(**{_flag(i): True})
    return q


def reasons_of(customer) -> list[str]:
    """The reason codes of a row of ``annotate_reasons`` (a model or a ``values()`` dict)."""
    get = customer.get if isinstance(customer, dict) else partial(getattr, customer)
    return [r[0] for i, r in enumerate(_relations()) if get(_flag(i), False)]


def deletion_proposal(queryset: QuerySet[Customer]) -> tuple[QuerySet, QuerySet]:
    """(deletable, undeletable) among ``queryset``, both querysets of the tenant's customers.

    The undeletable rows carry their reasons (``reasons_of(row)``). The reasons are one
    ``EXISTS`` per relation in one query, so the proposal costs the same for 10 or
    10,000 customers.
    """
    annotated = annotate_reasons(queryset)
    any_reason = _any_reason()
    return annotated.exclude(any_reason), annotated.filter(any_reason)


def proposal_fingerprint(deletable: QuerySet[Customer]) -> str:
    """A short hash of the deletable ids: what the proposal showed is what is executed."""
    ids = deletable.order_by("pk").values_list("pk", flat=True)
    digest = hashlib.sha256(",".join(str(pk) for pk in ids).encode())
    return digest.hexdigest()[:32]


def blockers(ids: Iterable[int]) -> dict[int, list[str]]:
    """{customer id: reason codes} for those of ``ids`` that may not be deleted now."""
    rows = (
        annotate_reasons(Customer.objects.filter(pk__in=list(ids)))
        .filter(_any_reason())
        .values("pk", *(_flag(i) for i in range(len(_relations()))))
    )
    return {row["pk"]: reasons_of(row) for row in rows}


# --- Runs -----------------------------------------------------------------------------


def _ids(customer_ids) -> list[int]:
    if isinstance(customer_ids, QuerySet):
        return list(customer_ids.order_by().values_list("pk", flat=True))
    try:
        return sorted({int(pk) for pk in customer_ids})
    except (TypeError, ValueError):
        raise ValidationError({"customers": _("The customers are given by their ids.")}) from None


@transaction.atomic
def deletion_run_start(
    *,
    customer_ids: Iterable[int] | QuerySet[Customer],
    actor: Actor,
    note: str = "",
    criteria: dict | None = None,
) -> DeletionRun:
    """Start deleting those of ``customer_ids`` that nothing keeps (ids or a queryset).

    The others are not part of the run (the proposal showed them struck out); they are
    counted as ``excluded``. Refused (ValidationError) when none may be deleted. Another
    tenant's ids do not exist. ``criteria`` (the proposal's filters) must hold no
    personal data.
    """
    from .tasks import deletion_run_work

    tenant = require_tenant()
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("At most %(n)d characters.") % {"n": NOTE_MAX}})
    ids = [pk for pk in _ids(customer_ids) if 0 < pk < 2**63]
    found = list(Customer.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    kept = blockers(found)
    deletable = [pk for pk in found if pk not in kept]
    if not deletable:
        raise ValidationError({"customers": _("None of these customers may be deleted.")})
    run = DeletionRun.objects.create(
        tenant=tenant,
        criteria=criteria or {},
        note=note,
        total=len(deletable),
        excluded=len(kept),
        created_by=actor.signed_in_user(),
        actor_type=actor.type,
        actor_id=str(actor.id or ""),
    )
    DeletionRunItem.objects.bulk_create(
        [DeletionRunItem(tenant=tenant, run=run, customer_id=pk) for pk in deletable],
        batch_size=5000,
    )
    audit_record(
        action="customer.mass_deletion_started",
        actor=actor,
        object_type="anonymization.deletion_run",
        object_id=run.pk,
        data={
            "total": len(deletable),
            "excluded": len(kept),
            "excluded_by_reason": dict(sorted(Counter(r[0] for r in kept.values()).items())),
            "criteria": run.criteria,
        },
    )
    deletion_run_work.enqueue(run.pk)
    return run


def _cascading_files(ids: list[int]) -> list[tuple[object, str]]:
    """(storage, name) of the stored files of rows that go with these customers."""
    files = []
    for model in apps.get_models():
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        if not file_fields:
            continue
        for f in model._meta.concrete_fields:
            if not (
                f.is_relation
                and f.related_model is Customer
                and f.remote_field.on_delete is models.CASCADE
            ):
                continue
            rows = model._default_manager.filter(**{f"{f.name}__in": ids})
            for ff in file_fields:
                for name in rows.exclude(**{ff.name: ""}).values_list(ff.name, flat=True):
                    if name:
                        files.append((ff.storage, name))
    return files


def _own_shared_rows(ids: list[int]) -> list[tuple[type[models.Model], list[int]]]:
    """Rows shared between customers (contact persons) that only these customers have.

    Read from the PII registry's shared reaches. The candidates are locked first, so that
    two chunks sharing a contact cannot each leave it to the other.
    """
    own = []
    for entry in pii.reaching():
        reach = entry.reach
        if not reach.shared or reach.history:
            continue
        m2m = entry.model._meta.get_field(reach.path)
        through = m2m.remote_field.through
        mine, theirs = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        candidates = sorted(
            set(
                through._default_manager.filter(**{f"{theirs}__in": ids}).values_list(
                    f"{mine}_id", flat=True
                )
            )
        )
        if not candidates:
            continue
        list(
            entry.model._default_manager.select_for_update().filter(pk__in=candidates).values("pk")
        )
        elsewhere = set(
            through._default_manager.filter(**{f"{mine}__in": candidates})
            .exclude(**{f"{theirs}__in": ids})
            .values_list(f"{mine}_id", flat=True)
        )
        pks = [pk for pk in candidates if pk not in elsewhere]
        if pks:
            own.append((entry.model, pks))
    return own


def _delete_customers(ids: list[int]) -> tuple[Counter, list[tuple[object, str]]]:
    """Delete these customers and what goes with them; (rows per model, files to delete)."""
    counts: Counter = Counter()
    if not ids:
        return counts, []
    files = _cascading_files(ids)
    shared = _own_shared_rows(ids)
    _n, per_model = Customer.objects.filter(pk__in=ids).delete()
    counts.update(per_model)
    for model, pks in shared:
        _n, per_model = model._default_manager.filter(pk__in=pks).delete()
        counts.update(per_model)
    return +counts, files


def deletion_run_chunk(*, run_id: int, limit: int | None = None) -> bool:
    """Delete the next ``limit`` waiting customers of the run; True while more wait."""
    limit = limit or chunk_size()
    with transaction.atomic():
        run = DeletionRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return False
        now = timezone.now()
        run.status = RunStatus.RUNNING
        run.started_at = run.started_at or now
        run.worked_at = now
        claimed = dict(
            DeletionRunItem.objects.select_for_update(skip_locked=True)
            .filter(run_id=run_id, outcome=DeletionOutcome.PENDING)
            .order_by("pk")
            .values_list("customer_id", "pk")[:limit]
        )
        if not claimed:
            _finish(run)
            return False
        ids = sorted(claimed)
        # Locked: a new reference (a sales document, a hold) waits for this commit.
        found = list(
            Customer.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        kept = blockers(found)
        reasons = {pk: kept[pk][0] if pk in kept else NOT_FOUND for pk in ids}
        for pk in set(found) - set(kept):
            del reasons[pk]
        deletable = [pk for pk in ids if pk not in reasons]
        counts, files = _delete_customers(deletable)
        items = []
        for customer_id, item_pk in claimed.items():
            item = DeletionRunItem(pk=item_pk)
            if customer_id in reasons:
                item.outcome, item.reason = DeletionOutcome.SKIPPED, reasons[customer_id]
            else:
                item.outcome, item.reason = DeletionOutcome.DELETED, ""
            items.append(item)
        DeletionRunItem.objects.bulk_update(items, ["outcome", "reason"])
        run.deleted += len(deletable)
        run.skipped += len(reasons)
        merged = Counter(run.counts or {})
        merged.update(counts)
        run.counts = dict(sorted(merged.items()))
        event = audit_record(
            action="customer.mass_deleted",
            actor=Actor(run.actor_type, run.actor_id),
            object_type="anonymization.deletion_run",
            object_id=run.pk,
            data={
                "deleted": deletable,
                "skipped": {str(k): v for k, v in sorted(reasons.items())},
                "count": len(deletable),
                "rows_by_model": dict(sorted(counts.items())),
                "files": len(files),
            },
        )
        if deletable:
            # Outside the database, so a restored backup does not bring them back (journal.py).
            journal_record(kind="deleted", ids=deletable, run_id=run.pk, audit_seq=event.seq)
        run.save()
        more = len(claimed) == limit
        if not more:
            _finish(run)
        transaction.on_commit(partial(_after_chunk, run.pk, deletable, files))
    return more


def _after_chunk(run_id: int, deleted_ids: list[int], files: list[tuple[object, str]]) -> None:
    """After a chunk's commit: the one place where the ids deleted by it are known.

    Deletes the stored files (a failure is logged; the deletion stands) and counts them
    on the run. Hook further after-commit work on deleted customers here.
    """
    removed = 0
    for storage, name in files:
        try:
            storage.delete(name)
            removed += 1
        except Exception:
            log.exception("mass deletion: could not delete a stored file")
    if removed:
        DeletionRun.objects.filter(pk=run_id).update(files_deleted=F("files_deleted") + removed)


def _finish(run: DeletionRun) -> None:
    """Mark the run done (inside the chunk's transaction, the run row locked)."""
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.save()
    audit_record(
        action="customer.mass_deletion_finished",
        actor=Actor(run.actor_type, run.actor_id),
        object_type="anonymization.deletion_run",
        object_id=run.pk,
        data={
            "total": run.total,
            "deleted": run.deleted,
            "skipped": run.skipped,
            "excluded": run.excluded,
        },
    )


def deletion_runs_resume(*, stalled_after: timedelta) -> int:
    """Send the next chunk again for the active tenant's runs whose task was lost."""
    from .tasks import deletion_run_work

    now = timezone.now()
    resumed = 0
    runs = DeletionRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
    for run in runs.order_by("pk"):
        last = run.worked_at or run.created_at
        if last < now - stalled_after:
            DeletionRun.objects.filter(pk=run.pk).update(worked_at=now)
            deletion_run_work.enqueue(run.pk)
            resumed += 1
    return resumed


@transaction.atomic
def deletion_run_stop(*, run_id: int, reason: str) -> bool:
    """Stop a run that cannot go on (an unexpected error); its waiting customers stay."""
    stopped = DeletionRun.objects.filter(
        pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).update(status=RunStatus.FAILED, finished_at=timezone.now(), error=reason[:100])
    if stopped:
        run = DeletionRun.objects.get(pk=run_id)
        audit_record(
            action="customer.mass_deletion_stopped",
            actor=Actor.system("anonymization.deletion"),
            object_type="anonymization.deletion_run",
            object_id=run_id,
            data={"reason": reason[:100], "deleted": run.deleted, "skipped": run.skipped},
        )
    return bool(stopped)


def deletion_runs() -> QuerySet[DeletionRun]:
    """The active tenant's deletion runs, newest first, with who started them."""
    return DeletionRun.objects.select_related("created_by").order_by("-created_at", "-pk")


def skipped_reasons(run: DeletionRun) -> list[tuple[str, int]]:
    """(reason label, customers) of a run's skipped customers, commonest first."""
    rows = (
        run.items.filter(outcome=DeletionOutcome.SKIPPED)
        .order_by()
        .values("reason")
        .annotate(n=models.Count("pk"))
        .order_by("-n", "reason")
    )
    return [(reason_label(row["reason"]), row["n"]) for row in rows]
