"""The erasure engine: anonymize data subjects by walking the PII registry (issue 10).

It never names an app. Each app's ``pii.py`` says which fields are personal, into which
category each falls, how it is scrubbed and how the model's rows reach the data subject
(``anonymization.registry``). For a chunk of customers the engine, in ONE transaction:

1. locks the customers (``SELECT … FOR UPDATE``) and skips, with a reason, those already
   anonymized, on legal hold or not found in the active tenant;
2. selects the rows of every reaching model: one query per model (a path to the
   customer, through a shared many-to-many link, or through a parent that is erased);
   a shared row (a contact person) is erased only when all its customers are erased,
   otherwise its links to the erased customers are removed;
3. notes what identifies the people (names, emails, phone numbers) before scrubbing;
4. scrubs set-based, children before parents: one ``UPDATE`` (or ``DELETE``) per model,
   an append-only model through its registered function; change-history rows by the
   category of the field they record;
5. marks the customers anonymized and lets the model rebuild derived fields (search
   text; a trigger refreshes the private search copy);
6. scans the tenant's free-text fields for the noted names, emails and phones and
   redacts them (``anonymization.scan``: a word and digit lookup in the database, the
   patterns checked in Python); what it cannot change (append-only rows) is reported as
   residue. A run only stores what to search for: it scans once, after its last chunk;
7. writes one audit entry (ids, counts, model and field names; no personal data).

After commit, stored files are deleted and outboxes forget their copies; failures are
reported in the result. The erasure journal (``anonymization/journal.py``, outside the
database) gets a line, so that a restored backup can be brought up to date.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit.actors import Actor
from audit.services import audit_record
from config.bulk import AnyOf
from tenancy.context import require_tenant

from . import scan
from .journal import ANONYMIZED, CONTACT_ERASED, journal_record
from .models import LegalHold
from .registry import ALL_CATEGORIES, CATEGORY_LABELS, ModelEntry, Needle, Scrub, pii
from .scan import Residue

__all__ = [
    "ALL_CATEGORIES",
    "CATEGORY_LABELS",
    "SKIP_REASONS",
    "ErasureResult",
    "Residue",
    "anonymize_customers",
    "erase_contact",
    "erase_object",
    "reached",
]

log = logging.getLogger(__name__)

SKIP_NOT_FOUND = "not_found"
SKIP_ANONYMIZED = "already_anonymized"
SKIP_LEGAL_HOLD = "legal_hold"
SKIP_REASONS = {
    SKIP_NOT_FOUND: _("Not found in this company"),
    SKIP_ANONYMIZED: _("Already anonymized"),
    SKIP_LEGAL_HOLD: _("On legal hold"),
}


@dataclass
class ErasureResult:
    anonymized: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # id -> SKIP_* reason
    categories: frozenset[str] = ALL_CATEGORIES
    per_category: Counter = field(default_factory=Counter)  # rows changed per category
    per_model: Counter = field(default_factory=Counter)  # rows changed or deleted per model
    unlinked: Counter = field(default_factory=Counter)  # shared rows unlinked per model
    redacted: Counter = field(default_factory=Counter)  # free-text rows redacted per model
    residue: list[Residue] = field(default_factory=list)
    # Filled after commit (at once when the engine's transaction is the outermost):
    files_deleted: list[str] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)  # storage names it could not delete
    forgotten: Counter = field(default_factory=Counter)  # outbox copies removed per model
    forget_errors: list[str] = field(default_factory=list)

    @property
    def did_nothing(self) -> bool:
        """A re-run of a finished chunk: nothing to do (every customer skipped)."""
        return not self.anonymized and not self.per_model

    def audit_data(self) -> dict:
        """For the audit log: ids, counts and names of models and fields only."""
        return {
            "anonymized": self.anonymized,
            "skipped": {str(k): v for k, v in sorted(self.skipped.items())},
            "categories": sorted(self.categories),
            "per_category": dict(sorted(self.per_category.items())),
            "per_model": dict(sorted(self.per_model.items())),
            "unlinked": dict(sorted(self.unlinked.items())),
            "redacted": dict(sorted(self.redacted.items())),
            "residue": [[r.model, r.field, r.pk] for r in self.residue],
        }


# --- Public interface --------------------------------------------------------------


def anonymize_customers(
    customer_ids: Sequence[int],
    *,
    actor: Actor,
    categories: frozenset[str] = ALL_CATEGORIES,
    run_id: int | None = None,
    replay: bool = False,
) -> ErasureResult:
    """Anonymize a chunk of customers of the active tenant in one transaction.

    Call it inside the tenant's scope and outside any transaction of your own if the
    files should be deleted at once (they are deleted when the outermost transaction
    commits). A customer that cannot be anonymized is skipped with its reason; a
    customer already anonymized is skipped, so a re-run of a chunk changes nothing.
    Once committed, the erasure is recorded in the erasure journal (outside the database).

    ``replay=True`` (``manage.py replay_erasures``, after a backup was restored) re-applies
    an erasure the journal records: a legal hold the restored copy still shows does not
    keep the customer, the audit action is ``anonymization.replayed``, and no new journal
    line is written (the journal has it already).
    """
    tenant = require_tenant()
    categories = _clean_categories(categories)
    subject = pii.subject_entry()
    wanted = sorted({int(pk) for pk in customer_ids})
    result = ErasureResult(categories=categories)
    with transaction.atomic():
        rows = {
            row["pk"]: row
            for row in subject.model.objects.select_for_update()
            .filter(AnyOf("pk", wanted))
            .order_by("pk")
            .values("pk", *subject.done)
        }
        held = set(
            LegalHold.objects.filter(AnyOf("customer", list(rows)), lifted_at__isnull=True)
            .values_list("customer_id", flat=True)
            .distinct()
        )
        ids = []
        for pk in wanted:
            row = rows.get(pk)
            if row is None:
                result.skipped[pk] = SKIP_NOT_FOUND
            elif all(row[k] == v for k, v in subject.done.items()):
                result.skipped[pk] = SKIP_ANONYMIZED
            elif pk in held and not replay:
                result.skipped[pk] = SKIP_LEGAL_HOLD
            else:
                ids.append(pk)
        if ids:
            # A run scans the tenant's free text once, after its last chunk.
            batch = scan.run_batch(run_id) if run_id is not None and not replay else None
            _Erasure(tenant, categories, result, batch).run(subject_ids=ids, seed={})
            result.anonymized = ids
        event = audit_record(
            action="anonymization.replayed" if replay else "anonymization.chunk",
            actor=actor,
            object_type="anonymization.run" if run_id is not None else "",
            object_id=run_id if run_id is not None else "",
            data=result.audit_data(),
        )
        if result.anonymized and not replay:
            journal_record(
                kind=ANONYMIZED,
                ids=result.anonymized,
                categories=categories,
                run_id=run_id,
                audit_seq=event.seq,
            )
    return result


def reached(customer_ids: Sequence[int]) -> dict[str, list[int]]:
    """The rows an erasure of these customers would reach, per model label (a preview;
    shared rows still linked elsewhere are left out: they would only be unlinked)."""
    tenant = require_tenant()
    erasure = _Erasure(tenant, ALL_CATEGORIES, ErasureResult())
    with transaction.atomic():
        erasure.select(sorted({int(pk) for pk in customer_ids}), {})
    return {label: pks for label, pks in erasure.selected.items() if pks}


def erase_object(
    obj: models.Model,
    *,
    actor: Actor | None = None,
    categories=ALL_CATEGORIES,
    replay: bool = False,
) -> ErasureResult:
    """Erase one registered row (a contact person) and what follows it, in one transaction.

    The row is scrubbed as its model's registration says (a contact stays as a tombstone,
    "Deleted contact"), rows that follow it (keys, roles) go, history about it is blanked
    and free text naming it is redacted. The caller records the audit entry. Once
    committed, the erasure journal records it (``contact_erased``), unless ``replay``.
    """
    tenant = require_tenant()
    entry = pii.entry(type(obj))
    if entry is None or entry.reach is None:
        raise ValueError(f"{type(obj)._meta.label} is not registered to reach a data subject.")
    result = ErasureResult(categories=_clean_categories(categories))
    with transaction.atomic():
        _Erasure(tenant, result.categories, result).run(
            subject_ids=[], seed={entry.label: [obj.pk]}
        )
        if not replay:
            journal_record(
                kind=CONTACT_ERASED, ids=[obj.pk], categories=result.categories, model=entry.label
            )
    return result


def erase_contact(contact, *, actor: Actor | None = None, replay: bool = False) -> ErasureResult:
    """Contact deletion (customers.services.contacts.contact_delete) uses the engine."""
    return erase_object(contact, actor=actor, replay=replay)


# --- The work ----------------------------------------------------------------------


def _clean_categories(categories) -> frozenset[str]:
    categories = frozenset(categories)
    unknown = categories - ALL_CATEGORIES
    if unknown:
        raise ValidationError(f"Unknown categories: {sorted(unknown)}")
    return categories


def _empty(f: models.Field):
    if isinstance(f, ArrayField):
        return []
    if isinstance(f, models.JSONField):
        default = f.get_default()
        return default if default is not None else {}
    if isinstance(f, models.CharField | models.TextField | models.FileField):
        return ""
    if f.null:
        return None
    return f.get_default()


def _has_tenant(model) -> bool:
    return any(f.name == "tenant" for f in model._meta.concrete_fields)


class _Erasure:
    def __init__(
        self,
        tenant,
        categories: frozenset[str],
        result: ErasureResult,
        scan_batch: str | None = None,
    ):
        self.tenant = tenant
        self.scan_batch = scan_batch
        self.categories = categories
        self.result = result
        self.language = tenant.default_language
        self.selected: dict[str, list[int]] = {}
        self.shared_links: dict[str, list[int]] = {}  # shared rows to unlink, per model
        self.files: list[tuple[object, str]] = []  # (storage, name)
        self.forget: list[tuple[ModelEntry, list[int]]] = []
        self.needles: list[Needle] = []

    def _objects(self, model):
        qs = model._default_manager.all()
        if _has_tenant(model):  # platform tables have no row security: say it here too
            qs = qs.filter(tenant_id=self.tenant.pk)
        return qs

    # 1. which rows

    def select(self, subject_ids: list[int], seed: dict[str, list[int]]) -> list[ModelEntry]:
        entries = pii.reaching()
        for entry in entries:
            reach = entry.reach
            if reach.history:
                continue
            if entry.label in seed:
                pks = list(seed[entry.label])
            elif entry.is_subject:
                pks = list(subject_ids)
            elif reach.parent is not None:
                parents = self.selected.get(reach.parent._meta.label, [])
                pks = self._pks(entry.model, reach.path, parents) if parents else []
            elif not subject_ids:
                pks = []
            elif reach.shared:
                pks = self._select_shared(entry, subject_ids)
            else:
                pks = self._pks(entry.model, reach.path, subject_ids)
            self.selected[entry.label] = pks
        return entries

    def _pks(self, model, path: str, ids: list[int]) -> list[int]:
        rows = self._objects(model).filter(AnyOf(path, ids)).values_list("pk", flat=True)
        return sorted(set(rows))

    def _select_shared(self, entry: ModelEntry, subject_ids: list[int]) -> list[int]:
        m2m = entry.model._meta.get_field(entry.reach.path)
        through = m2m.remote_field.through
        own, other = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        candidates = sorted(
            set(
                self._objects(through)
                .filter(AnyOf(other, subject_ids))
                .values_list(f"{own}_id", flat=True)
            )
        )
        if not candidates:
            return []
        # Lock them: two chunks sharing a contact must not each leave it to the other.
        locked = self._objects(entry.model).select_for_update().filter(AnyOf("pk", candidates))
        list(locked.values("pk"))
        elsewhere = set(
            self._objects(through)
            .filter(AnyOf(own, candidates))
            .exclude(AnyOf(other, subject_ids))
            .values_list(f"{own}_id", flat=True)
        )
        self.shared_links[entry.label] = [pk for pk in candidates if pk in elsewhere]
        return [pk for pk in candidates if pk not in elsewhere]

    # 2. what identifies them

    def collect_needles(self, entries: list[ModelEntry]) -> None:
        for entry in entries:
            pks = self.selected.get(entry.label)
            if not pks or entry.reach.needles is None:
                continue
            for row in self._objects(entry.model).filter(AnyOf("pk", pks)):
                for needle in entry.reach.needles(row):
                    if needle is not None and needle.category in self.categories:
                        self.needles.append(needle)

    # 3. scrub

    def run(self, *, subject_ids: list[int], seed: dict[str, list[int]]) -> None:
        entries = self.select(subject_ids, seed)
        self.collect_needles(entries)
        for entry in reversed(entries):  # children first: a parent's delete cannot cascade
            if entry.reach.history:
                self.scrub_history(entry, subject_ids)
            else:
                self.scrub(entry)
        self.unlink_shared(entries, subject_ids)
        if subject_ids:
            subject = pii.subject_entry()
            if subject.reach.after:  # rebuilds the derived fields and marks them done
                subject.reach.after(subject_ids, self.language, done=subject.done)
            else:
                self._objects(subject.model).filter(AnyOf("pk", subject_ids)).update(**subject.done)
        self.redact_free_text()
        self.after_commit()

    def _rules(self, entry: ModelEntry) -> dict:
        return {
            name: rule
            for name, rule in entry.fields.items()
            if rule.personal and rule.category in self.categories
        }

    def _count(self, entry: ModelEntry, rules: dict, n: int) -> None:
        if not n:
            return
        self.result.per_model[entry.label] += n
        for category in {r.category for r in rules.values()}:
            self.result.per_category[category] += n

    def scrub(self, entry: ModelEntry) -> None:
        pks = self.selected.get(entry.label)
        rules = self._rules(entry)
        if not pks or not rules:
            return
        model, reach = entry.model, entry.reach
        qs = self._objects(model).filter(AnyOf("pk", pks))
        for name, rule in rules.items():
            if rule.scrub == Scrub.DELETE_FILE:
                f = model._meta.get_field(name)
                for stored in qs.exclude(**{name: ""}).values_list(name, flat=True):
                    if stored:
                        self.files.append((f.storage, stored))
        if any(r.scrub == Scrub.DELETE_ROW for r in rules.values()):
            _total, per_model = qs.delete()
            self._count(entry, rules, per_model.get(entry.label, 0))
            return
        if reach.bulk is not None:
            self._count(entry, rules, reach.bulk(pks))
            self.forget_later(entry, pks)
            return
        values = {}
        with translation.override(self.language):
            for name, rule in rules.items():
                f = model._meta.get_field(name)
                if rule.scrub in (Scrub.BLANK, Scrub.DELETE_FILE):
                    values[name] = _empty(f)
                elif rule.scrub == Scrub.NULL:
                    values[name] = None
                elif rule.scrub == Scrub.REPLACE:
                    value = rule.value(self.language) if callable(rule.value) else rule.value
                    values[name] = str(value) if isinstance(value, Promise) else value
        if reach.mark and entry.category in self.categories:
            values.update(reach.mark)
        if values:
            self._count(entry, rules, qs.update(**values))
        if reach.after is not None and not entry.is_subject:
            reach.after(pks, self.language)
        self.forget_later(entry, pks)

    def forget_later(self, entry: ModelEntry, pks: list[int]) -> None:
        if entry.reach.forget is not None:
            self.forget.append((entry, pks))

    def scrub_history(self, entry: ModelEntry, subject_ids: list[int]) -> None:
        """History rows are scrubbed by the category of the field they record."""
        type_col, id_col, field_col = entry.reach.history
        by_category = Q()
        about_erased = Q()
        for other in pii.entries():
            name = other.model._meta.model_name
            fields = [n for n, r in self._rules(other).items()]
            if fields:
                by_category |= Q(**{type_col: name, f"{field_col}__in": fields})
            if other.category in self.categories:
                # A pseudo-field the history records ("contact" on a customer's history).
                by_category |= Q(**{type_col: name}) & ~Q(
                    **{f"{field_col}__in": list(other.fields)}
                )
            pks = self.selected.get(other.label)
            if pks and not other.reach.history:
                # Each arm an index scan (ChangeRecord's tenant, type, id index; the
                # customer's index): a bitmap OR of the chunk's rows, not of the tenant's.
                about_erased |= Q(**{type_col: name}) & Q(AnyOf(id_col, pks))
        rows = about_erased
        if subject_ids:
            rows |= Q(AnyOf(entry.reach.path, subject_ids))
        if not rows or not by_category:
            return
        blank = {
            name: _empty(entry.model._meta.get_field(name))
            for name, rule in entry.fields.items()
            if rule.personal
        }
        n = self._objects(entry.model).filter(rows).filter(by_category).update(**blank)
        if n:
            self.result.per_model[entry.label] += n

    def unlink_shared(self, entries: list[ModelEntry], subject_ids: list[int]) -> None:
        for entry in entries:
            pks = self.shared_links.get(entry.label)
            if not pks or entry.category not in self.categories:
                continue
            m2m = entry.model._meta.get_field(entry.reach.path)
            through = m2m.remote_field.through
            own, other = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
            n, _detail = (
                self._objects(through).filter(AnyOf(own, pks), AnyOf(other, subject_ids)).delete()
            )
            if n:
                self.result.unlinked[entry.label] += len(pks)

    # 4. free text elsewhere

    def redact_free_text(self) -> None:
        """Note what identifies the erased people; scan now, or after the run's last chunk."""
        if self.scan_batch is not None:  # a run: scan.scan() runs once after its last chunk
            scan.store_needles(self.tenant, self.scan_batch, self.needles)
            return
        batch = scan.new_batch()
        if not scan.store_needles(self.tenant, batch, self.needles):
            return
        own = self.selected

        def exclude(entry: ModelEntry) -> Q | None:
            pks = own.get(entry.label)
            return Q(AnyOf("pk", pks)) if pks else None

        found = scan.scan(self.tenant, batch, exclude=exclude)
        scan.forget_needles(self.tenant, batch)
        self.result.redacted.update(found.redacted)
        self.result.residue.extend(found.residue)

    # 5. outside the database, once committed

    def after_commit(self) -> None:
        files, forget, result = list(self.files), list(self.forget), self.result
        tenant_id = self.tenant.pk

        def done() -> None:
            for storage, name in files:
                try:
                    storage.delete(name)
                    result.files_deleted.append(name)
                except Exception:
                    log.exception("anonymization: could not delete a stored file")
                    result.file_errors.append(name)
            for entry, pks in forget:
                try:
                    result.forgotten[entry.label] += entry.reach.forget(pks, tenant_id) or 0
                except Exception:
                    log.exception("anonymization: an outbox could not forget messages")
                    result.forget_errors.append(entry.label)

        if files or forget:
            transaction.on_commit(done)


def owned_by(entry: ModelEntry, subjects) -> Q | None:
    """The rows of ``entry``'s model that reach the data subjects ``subjects`` (a queryset
    of their ids): an erasure's own rows, which the free-text scan leaves alone."""
    reach = entry.reach
    if reach is None:
        return None
    if entry.is_subject:
        return Q(pk__in=subjects)
    if reach.parent is not None:
        parent = pii.entry(reach.parent)
        parent_rows = owned_by(parent, subjects) if parent is not None else None
        if parent_rows is None:
            return None
        return Q(**{f"{reach.path}__in": reach.parent._default_manager.filter(parent_rows)})
    return Q(**{f"{reach.path}__in": subjects})
