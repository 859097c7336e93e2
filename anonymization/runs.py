"""Anonymization runs (issue 10 item 3): start, work through in chunks, resume, stop.

The erasure itself is ``anonymization.engine.anonymize_customers``; a run adds what a
job needs around it. Each chunk is one transaction: the run row is locked (chunks of a
run follow one another), the chunk's items are claimed ``FOR UPDATE SKIP LOCKED`` among
those still PENDING, each customer is checked against the eligibility rules again (a
customer may have bought something or been put on hold since it was ticked), the engine
anonymizes the eligible ones, and the items leave PENDING in the same transaction. So a
worker killed mid-chunk leaves the chunk exactly as it was (rolled back), a redelivered
or resumed chunk skips what is done, and the counts are exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.actors import Actor
from audit.services import audit_record
from config.bulk import AnyOf
from customers.models import Customer, CustomerStatus
from tenancy.context import require_tenant

from . import eligibility, scan
from .engine import SKIP_REASONS, anonymize_customers, owned_by
from .models import AnonymizationRun, AnonymizationRunItem, ItemOutcome, RunSource, RunStatus
from .registry import ALL_CATEGORIES

NOTE_MAX = 500

# Typed by the person who starts a run, in the language of the page they see.
CONFIRMATION_PHRASES = {
    "en": "I understand anonymization",
    "sv": "Jag förstår anonymisering",
    "da": "Jeg forstår anonymisering",
    "nb": "Jeg forstår anonymisering",
}

# Why a customer of a run was not anonymized: the engine's reasons and the blockers.
SKIP_LABELS = {**SKIP_REASONS, **eligibility.BLOCKER_LABELS}
SKIP_LABELS.setdefault("not_found", gettext_lazy("Not found in this company."))


def confirmation_phrase(language: str) -> str:
    return CONFIRMATION_PHRASES.get(language, CONFIRMATION_PHRASES["en"])


def phrase_matches(typed: str, language: str) -> bool:
    """Case and surrounding spaces aside, the phrase of ``language`` exactly."""
    return " ".join(typed.split()).casefold() == confirmation_phrase(language).casefold()


def chunk_size() -> int:
    return settings.ANONYMIZATION_CHUNK_SIZE


def _clean_categories(categories: Iterable[str] | None) -> list[str]:
    chosen = set(ALL_CATEGORIES if categories is None else categories)
    if not chosen:
        raise ValidationError({"categories": _("Choose at least one kind of data.")})
    if chosen - ALL_CATEGORIES:
        raise ValidationError({"categories": _("Unknown kind of data.")})
    return sorted(chosen)


def _ids(customer_ids) -> list[int]:
    if isinstance(customer_ids, QuerySet):
        return list(customer_ids.order_by().values_list("pk", flat=True))
    try:
        return sorted({int(pk) for pk in customer_ids})
    except (TypeError, ValueError):
        raise ValidationError({"customers": _("The customers are given by their ids.")}) from None


def _blockers(ids: list[int]) -> dict[int, str]:
    """The first reason each of ``ids`` may not be anonymized today ({} for eligible ones)."""
    today = eligibility.tenant_today()
    found = eligibility.eligibility_annotate(Customer.objects.filter(AnyOf("pk", ids)), today=today)
    reasons = {}
    for customer in found:
        blocked = eligibility.reasons_of(customer, today=today)
        if blocked:
            reasons[customer.pk] = blocked[0]
    for pk in set(ids) - {c.pk for c in found}:
        reasons[pk] = "not_found"
    return reasons


@transaction.atomic
def anonymization_run_start(
    *,
    customer_ids: Iterable[int] | QuerySet[Customer],
    actor: Actor,
    source: str,
    categories: Iterable[str] | None = None,
    note: str = "",
) -> AnonymizationRun:
    """Start anonymizing ``customer_ids`` (ids or a queryset of the tenant's customers).

    Refused (ValidationError) when none of them may be anonymized today, naming why for a
    single customer; the others are anonymized and those that are not eligible when
    their chunk runs are skipped with their reason. Another tenant's ids do not exist.
    """
    from .tasks import anonymization_run_work

    tenant = require_tenant()
    if source not in RunSource.values:
        raise ValidationError({"source": _("Unknown source.")})
    chosen = _clean_categories(categories)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("At most %(n)d characters.") % {"n": NOTE_MAX}})
    ids = [pk for pk in _ids(customer_ids) if 0 < pk < 2**63]
    # Only the tenant's own customers that are not anonymized yet (ORM scope + row security).
    ids = list(
        Customer.objects.filter(pk__in=ids)
        .exclude(status=CustomerStatus.ANONYMIZED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise ValidationError({"customers": _("There are no customers to anonymize.")})
    blocked = _blockers(ids)
    if len(blocked) == len(ids):
        if len(ids) == 1:
            reason = SKIP_LABELS.get(blocked[ids[0]], blocked[ids[0]])
            raise ValidationError(
                {
                    "customers": _("This customer may not be anonymized: %(reason)s")
                    % {"reason": reason}
                }
            )
        raise ValidationError({"customers": _("None of these customers may be anonymized today.")})
    run = AnonymizationRun.objects.create(
        tenant=tenant,
        source=source,
        categories=chosen,
        note=note,
        total=len(ids),
        created_by=actor.signed_in_user(),
        actor_type=actor.type,
        actor_id=str(actor.id or ""),
    )
    AnonymizationRunItem.objects.bulk_create(
        [AnonymizationRunItem(tenant=tenant, run=run, customer_id=pk) for pk in ids],
        batch_size=5000,
    )
    audit_record(
        action="anonymization.run_started",
        actor=actor,
        object_type="anonymization.run",
        object_id=run.pk,
        data={"source": source, "categories": chosen, "total": len(ids)},
    )
    anonymization_run_work.enqueue(run.pk)
    return run


def anonymization_run_chunk(*, run_id: int, limit: int | None = None) -> bool:
    """Anonymize the next ``limit`` waiting customers of the run; True while more wait."""
    limit = limit or chunk_size()
    files: dict = {}
    with transaction.atomic():
        run = AnonymizationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return False
        now = timezone.now()
        run.status = RunStatus.RUNNING
        run.started_at = run.started_at or now
        run.worked_at = now
        claimed = dict(
            AnonymizationRunItem.objects.select_for_update(skip_locked=True)
            .filter(run_id=run_id, outcome=ItemOutcome.PENDING)
            .order_by("pk")
            .values_list("customer_id", "pk")[:limit]
        )
        if not claimed:
            _scan(run)
            _finish(run)
            return False
        ids = sorted(claimed)
        blocked = _blockers(ids)
        actor = Actor(run.actor_type, run.actor_id)
        result = anonymize_customers(
            [pk for pk in ids if pk not in blocked],
            actor=actor,
            categories=frozenset(run.categories),
            run_id=run.pk,
        )
        reasons = {**blocked, **result.skipped}
        # One UPDATE per outcome and reason (a handful), not one CASE per item.
        by_reason: dict[tuple[str, str], list[int]] = {}
        anonymized = set(result.anonymized)
        for customer_id, item_pk in claimed.items():
            if customer_id in anonymized:
                key = (ItemOutcome.ANONYMIZED, "")
            else:
                key = (ItemOutcome.SKIPPED, reasons.get(customer_id, "not_found"))
            by_reason.setdefault(key, []).append(item_pk)
        for (outcome, reason), pks in by_reason.items():
            AnonymizationRunItem.objects.filter(AnyOf("pk", pks)).update(
                outcome=outcome, reason=reason
            )
        run.anonymized += len(anonymized)
        run.skipped += len(claimed) - len(anonymized)
        run.residue += len(result.residue)
        run.counts = _merge(run.counts, result)
        run.save()
        files["result"] = result
        more = True  # the next chunk finds nothing waiting, scans and finishes the run
    # The engine deletes files once the chunk is committed, and fills these in then.
    deleted = len(files["result"].files_deleted)
    if deleted:
        AnonymizationRun.objects.filter(pk=run_id).update(
            files_deleted=F("files_deleted") + deleted
        )
    return more


def _merge(counts: dict, result) -> dict:
    merged = {key: Counter(value) for key, value in (counts or {}).items()}
    for key, value in (
        ("per_category", result.per_category),
        ("per_model", result.per_model),
        ("unlinked", result.unlinked),
        ("redacted", result.redacted),
    ):
        merged.setdefault(key, Counter()).update(value)
    return {key: dict(sorted(value.items())) for key, value in merged.items()}


def _scan(run: AnonymizationRun) -> None:
    """After the last chunk: search the tenant's free text once for everyone the run erased
    (their names, emails and phones were noted by the chunks), then forget them."""
    tenant = require_tenant()
    batch = scan.run_batch(run.pk)
    erased = AnonymizationRunItem.objects.filter(
        run_id=run.pk, outcome=ItemOutcome.ANONYMIZED
    ).values("customer_id")
    found = scan.scan(tenant, batch, exclude=lambda entry: owned_by(entry, erased))
    scan.forget_needles(tenant, batch)
    run.residue += len(found.residue)
    counts = dict(run.counts or {})
    redacted = Counter(counts.get("redacted", {}))
    redacted.update(found.redacted)
    counts["redacted"] = dict(sorted(redacted.items()))
    run.counts = counts
    audit_record(
        action="anonymization.scanned",
        actor=Actor(run.actor_type, run.actor_id),
        object_type="anonymization.run",
        object_id=run.pk,
        data={
            "redacted": dict(sorted(found.redacted.items())),
            "residue": [[r.model, r.field, r.pk] for r in found.residue],
        },
    )


def _finish(run: AnonymizationRun) -> None:
    """Mark the run done (inside the chunk's transaction, the run row locked)."""
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.save()
    audit_record(
        action="anonymization.run_finished",
        actor=Actor(run.actor_type, run.actor_id),
        object_type="anonymization.run",
        object_id=run.pk,
        data={
            "total": run.total,
            "anonymized": run.anonymized,
            "skipped": run.skipped,
            "residue": run.residue,
            "categories": run.categories,
        },
    )


def anonymization_runs_resume(*, stalled_after: timedelta) -> int:
    """Send the next chunk again for the active tenant's runs whose task was lost."""
    from .tasks import anonymization_run_work

    now = timezone.now()
    resumed = 0
    runs = AnonymizationRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
    for run in runs.order_by("pk"):
        last = run.worked_at or run.created_at
        if last < now - stalled_after:
            AnonymizationRun.objects.filter(pk=run.pk).update(worked_at=now)
            anonymization_run_work.enqueue(run.pk)
            resumed += 1
    return resumed


@transaction.atomic
def anonymization_run_stop(*, run_id: int, reason: str) -> bool:
    """Stop a run that cannot go on (an unexpected error); its waiting customers stay."""
    stopped = AnonymizationRun.objects.filter(
        pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).update(status=RunStatus.FAILED, finished_at=timezone.now(), error=reason[:100])
    if stopped:
        run = AnonymizationRun.objects.get(pk=run_id)
        scan.forget_needles(require_tenant(), scan.run_batch(run_id))
        audit_record(
            action="anonymization.run_stopped",
            actor=Actor.system("anonymization.runs"),
            object_type="anonymization.run",
            object_id=run_id,
            data={"reason": reason[:100], "anonymized": run.anonymized, "skipped": run.skipped},
        )
    return bool(stopped)
