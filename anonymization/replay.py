"""Re-apply the erasures the journal records onto a restored database (issue 10 item 7).

``manage.py replay_erasures`` calls :func:`replay_erasures` with the journal's verified
entries (``anonymization/journal.py``). For each entry it looks at what the database holds
now and re-applies what is missing, in journal order, tenant by tenant:

- ``anonymized``: customers that exist and are not anonymized are anonymized again by the
  erasure engine with the recorded categories (``replay=True``: a legal hold the restored
  copy still shows does not keep them; audit action ``anonymization.replayed``);
- ``contact_erased``: contacts that are not deleted are erased again (``erase_contact``);
- ``deleted``: customers that still exist are first erased by the engine (every category:
  what reaches them, sent messages and free text included), then deleted with the rows
  that cascade from them, set-based. A customer something still protects (a sales
  document, a consent record, a legal hold) is not forced out: it stays anonymized and is
  reported as kept, with what references it.

A row created after the erasure's time is not the person the journal names (ids are
handed out again after a restore): it is left alone and reported as ``newer``. What is
already erased (or gone) counts as ``already``, so a second replay re-applies nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError

from audit.actors import Actor
from audit.services import audit_record
from customers.models import Contact, Customer, CustomerStatus
from tenancy.context import tenant_scope
from tenancy.models import Tenant

from .engine import anonymize_customers, erase_contact
from .journal import ANONYMIZED, CONTACT_ERASED, DELETED, JournalEntry
from .registry import ALL_CATEGORIES

ACTOR = Actor.system("replay_erasures")


@dataclass
class TenantReplay:
    """What one tenant's replay re-applied (or, in a dry run, would have)."""

    tenant_id: int
    slug: str  # as the journal recorded it
    found: bool = True  # the tenant exists in this database
    anonymized: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    already: int = 0
    kept: dict[int, str] = field(default_factory=dict)  # customer id -> what protects it
    newer: list[tuple[str, int]] = field(default_factory=list)  # (model, id) created later
    unsupported: list[int] = field(default_factory=list)  # journal lines it cannot replay
    lines: list[int] = field(default_factory=list)  # journal lines that re-applied something
    changed: bool = False  # a kept customer was anonymized

    @property
    def applied(self) -> bool:
        return bool(self.anonymized or self.deleted or self.contacts or self.changed)


@dataclass
class ReplayReport:
    tenants: list[TenantReplay] = field(default_factory=list)
    dry_run: bool = False

    def total(self, name: str) -> int:
        values = [getattr(t, name) for t in self.tenants]
        return sum(v if isinstance(v, int) else len(v) for v in values)


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _sorted_out(entry: JournalEntry, rows: dict, done, out: TenantReplay, model: str):
    """Split the entry's ids into what is to do; count what is done, note what is newer."""
    at = entry.at_datetime
    todo = []
    for pk in entry.ids:
        row = rows.get(pk)
        if row is None or done(row):
            out.already += 1
        elif row["created_at"] > at:
            out.newer.append((model, pk))
        else:
            todo.append(pk)
    return todo


def _replay_anonymized(entry: JournalEntry, out: TenantReplay) -> bool:
    rows = {
        r["pk"]: r
        for r in Customer.objects.filter(pk__in=entry.ids).values("pk", "status", "created_at")
    }
    todo = _sorted_out(
        entry, rows, lambda r: r["status"] == CustomerStatus.ANONYMIZED, out, "customer"
    )
    categories = (
        ALL_CATEGORIES if entry.categories is None else frozenset(entry.categories) & ALL_CATEGORIES
    )
    did = False
    for chunk in _chunks(todo, settings.ANONYMIZATION_CHUNK_SIZE):
        result = anonymize_customers(
            chunk, actor=ACTOR, categories=categories, run_id=entry.run_id, replay=True
        )
        out.anonymized += result.anonymized
        out.already += len(result.skipped)  # done meanwhile by someone else
        did = did or bool(result.anonymized)
    return did


def _replay_contacts(entry: JournalEntry, out: TenantReplay) -> bool:
    if entry.model != Contact._meta.label:
        out.unsupported.append(entry.line)
        return False
    rows = {
        r["pk"]: r
        for r in Contact.objects.filter(pk__in=entry.ids).values("pk", "deleted_at", "created_at")
    }
    todo = _sorted_out(entry, rows, lambda r: r["deleted_at"] is not None, out, "contact")
    for contact in Contact.objects.filter(pk__in=todo).order_by("pk"):
        erase_contact(contact, actor=ACTOR, replay=True)
        out.contacts.append(contact.pk)
    return bool(todo)


def _protected_by(exc: ProtectedError) -> str:
    return ", ".join(sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects}))


def _replay_deleted(entry: JournalEntry, out: TenantReplay) -> bool:
    rows = {
        r["pk"]: r
        for r in Customer.objects.filter(pk__in=entry.ids).values("pk", "status", "created_at")
    }
    todo = _sorted_out(entry, rows, lambda r: False, out, "customer")
    changed, before = False, len(out.deleted)
    for chunk in _chunks(todo, settings.ANONYMIZATION_CHUNK_SIZE):
        with transaction.atomic():
            # Erase first: what reaches them but would outlive the row (a sent message
            # keeps its address when its customer goes), free text naming them, files.
            fresh = [pk for pk in chunk if rows[pk]["status"] != CustomerStatus.ANONYMIZED]
            if fresh:
                result = anonymize_customers(fresh, actor=ACTOR, replay=True)
                changed = changed or bool(result.anonymized)
            try:
                with transaction.atomic():
                    Customer.objects.filter(pk__in=chunk).delete()
                out.deleted += chunk
                continue
            except ProtectedError:
                pass
            for pk in chunk:  # something protects one of them: find which, keep those
                try:
                    with transaction.atomic():
                        Customer.objects.filter(pk=pk).delete()
                    out.deleted.append(pk)
                except ProtectedError as exc:
                    out.kept[pk] = _protected_by(exc)
    out.changed = out.changed or changed
    return changed or len(out.deleted) > before


_REPLAY = {
    ANONYMIZED: _replay_anonymized,
    DELETED: _replay_deleted,
    CONTACT_ERASED: _replay_contacts,
}


class _DryRun(Exception):
    pass


def _replay_tenant(tenant: Tenant, entries: list[JournalEntry], out: TenantReplay, dry_run):
    with tenant_scope(tenant):
        try:
            # A dry run does it all in one transaction and rolls it back: exact counts,
            # nothing changed (files and outboxes are only touched after a commit).
            with transaction.atomic() if dry_run else nullcontext():
                for entry in entries:
                    if _REPLAY[entry.kind](entry, out):
                        out.lines.append(entry.line)
                if out.applied:
                    audit_record(
                        action="anonymization.replay",
                        actor=ACTOR,
                        data={
                            "journal_lines": out.lines,
                            "anonymized": sorted(out.anonymized),
                            "deleted": sorted(out.deleted),
                            "contacts": sorted(out.contacts),
                            "kept": {str(k): v for k, v in sorted(out.kept.items())},
                            "newer": sorted([m, pk] for m, pk in out.newer),
                            "already": out.already,
                        },
                    )
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass


def replay_erasures(entries: Iterable[JournalEntry], *, dry_run: bool = False) -> ReplayReport:
    """Re-apply ``entries`` (verified journal entries) to this database, tenant by tenant.

    Run it outside any transaction, right after the restore and before users or the
    worker come back (new rows get ids the lost ones had; rows newer than an erasure are
    left alone, but nothing should be created before the replay).
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("replay_erasures() must run outside any transaction.")
    by_tenant: dict[int, list[JournalEntry]] = defaultdict(list)
    for entry in entries:
        by_tenant[entry.tenant_id].append(entry)
    report = ReplayReport(dry_run=dry_run)
    tenants = Tenant.objects.in_bulk(list(by_tenant))
    for tenant_id, tenant_entries in sorted(by_tenant.items()):
        out = TenantReplay(tenant_id=tenant_id, slug=tenant_entries[-1].slug)
        report.tenants.append(out)
        tenant = tenants.get(tenant_id)
        if tenant is None:
            out.found = False
            continue
        _replay_tenant(tenant, tenant_entries, out, dry_run)
    return report
