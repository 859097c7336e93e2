"""Reading the audit log: the entries people browse (the audit page's filters, the
entries about one customer for the card's history, the API's list), and the chains'
verification. Newest first by time, then row id: ``seq`` counts within one chain only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet

from tenancy.models import ApiKey, Membership

from .anchor import Checkpoint
from .describe import known_actions
from .models import GENESIS_HASH, ActorType, AuditEvent

NEWEST_FIRST = ("-created_at", "-id")


def about_customer(customer_id: int, *, contact_ids: Iterable[int] = ()) -> Q:
    """Entries about one customer, whichever way the entry names it: as its object, as
    ``customer``/``customer_id`` in the data, or as a contact of it that was deleted
    (older deletions name no customer; the link to a deleted contact stays)."""
    about = (
        Q(object_type="customer", object_id=str(customer_id))
        | Q(data__customer=customer_id)
        | Q(data__customer_id=customer_id)
        | Q(action="contact.deleted", data__customers__contains=[customer_id])
        | Q(action="anonymization.chunk", data__anonymized__contains=[customer_id])
    )
    contact_ids = [str(pk) for pk in contact_ids]
    if contact_ids:
        about |= Q(action="contact.deleted", object_type="contact", object_id__in=contact_ids)
    return about


def audit_events(
    *,
    who: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    customer_id: int | None = None,
    actor_type: str = "",
    since=None,
    until=None,
) -> QuerySet[AuditEvent]:
    """The active tenant's entries matching the audit page's filters.

    ``who``: ``user:<id>``, ``api_key:<prefix>``, ``system`` or ``customer``.
    ``action``: a known action exactly, anything else as a prefix (``customer.``).
    """
    qs = AuditEvent.objects.all()
    if who:
        kind, _sep, ident = who.partition(":")
        qs = qs.filter(actor_type=kind)
        if ident:
            qs = qs.filter(actor_id=ident)
    if actor_type:
        qs = qs.filter(actor_type=actor_type)
    if action:
        qs = (
            qs.filter(action=action)
            if action in known_actions()
            else qs.filter(action__startswith=action)
        )
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if customer_id is not None:
        qs = qs.filter(about_customer(customer_id))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by(*NEWEST_FIRST)


def actor_choices(tenant) -> list[tuple[str, list[tuple[str, str]]]]:
    """The "person" select: the tenant's users (active or not: a membership stays when it
    is switched off), its API keys, and the system and the customers themselves."""
    users = get_user_model().objects.filter(
        pk__in=Membership.objects.filter(tenant=tenant).values("user_id")
    )
    people = sorted(
        ((f"user:{u.pk}", u.get_full_name() or u.get_username()) for u in users),
        key=lambda pair: pair[1].lower(),
    )
    keys = [
        (f"api_key:{prefix}", name)
        for prefix, name in ApiKey.objects.order_by("name").values_list("prefix", "name")
    ]
    others = [(ActorType.SYSTEM.value, ActorType.SYSTEM.label)]
    others.append((ActorType.CUSTOMER.value, ActorType.CUSTOMER.label))
    choices = []
    if people:
        choices.append((str(ActorType.USER.label), people))
    if keys:
        choices.append((str(ActorType.API_KEY.label), keys))
    choices.append(("—", [(value, str(label)) for value, label in others]))
    return choices


@dataclass(frozen=True)
class ChainHead:
    """One intact chain: its number, length and newest event."""

    chain: int
    events: int
    head_id: int | None
    head_hash: str
    checkpoint: Checkpoint | None = None  # the checkpoint the chain was held against


@dataclass(frozen=True)
class ChainReport:
    """What walking all of a tenant's chains found; on the first break, where it is."""

    events: int  # in all chains verified (before a checkpoint: as the checkpoint counts them)
    broken_at: int | None  # sequence number of the first bad (or first missing) event
    reason: str = ""
    chain: int | None = None  # the chain that broke
    checkpoint: Checkpoint | None = None  # the broken chain's checkpoint
    chains: tuple[ChainHead, ...] = ()  # the intact chains, by number

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    @property
    def head_id(self) -> int | None:
        """The newest event of the log (any chain)."""
        ids = [c.head_id for c in self.chains if c.head_id is not None]
        return max(ids) if ids else None

    @property
    def head_hash(self) -> str:
        """One hash that stands for the whole log as verified: the head's hash for a single
        chain (as before chains were striped), else SHA-256 over every chain's head."""
        heads = [c for c in self.chains if c.head_id is not None]
        if not heads:
            return ""
        if len(heads) == 1 and heads[0].chain == 0:
            return heads[0].head_hash
        lines = "".join(f"{c.chain}:{c.events}:{c.head_hash}\n" for c in heads)
        return hashlib.sha256(lines.encode()).hexdigest()

    @property
    def checkpoints(self) -> list[Checkpoint]:
        return [c.checkpoint for c in self.chains if c.checkpoint is not None]


class _Broken(Exception):
    def __init__(self, chain: int, seq: int, reason: str, checkpoint: Checkpoint | None):
        self.chain, self.seq, self.reason, self.checkpoint = chain, seq, reason, checkpoint


class _ChainWalk:
    """The state of walking one chain: sequence, link, hash and keyed hash of each event."""

    def __init__(self, chain: int, checkpoint: Checkpoint | None, since_checkpoint: bool):
        self.chain, self.checkpoint = chain, checkpoint
        self.count = 0
        self.expected_prev: str | None = GENESIS_HASH
        self.head: AuditEvent | None = None
        self.tail_only = checkpoint is not None and since_checkpoint
        if self.tail_only:
            self.count = checkpoint.seq - 1
            self.expected_prev = None  # the checkpoint vouches for the event at its position

    def broken(self, seq: int, reason: str) -> _Broken:
        return _Broken(self.chain, seq, reason, self.checkpoint)

    def step(self, event: AuditEvent) -> None:
        self.count += 1
        checkpoint = self.checkpoint
        if event.seq != self.count:
            raise self.broken(event.seq if event.seq > self.count else self.count, "sequence gap")
        if self.expected_prev is not None and event.prev_hash != self.expected_prev:
            raise self.broken(event.seq, "link to the previous event broken")
        if event.compute_hash() != event.hash:
            raise self.broken(event.seq, "content does not match its hash")
        if not event.mac_is_valid():
            raise self.broken(event.seq, "keyed hash wrong: rewritten without the key")
        at_checkpoint = checkpoint is not None and event.seq == checkpoint.seq
        if at_checkpoint and event.hash != checkpoint.head_hash:
            raise self.broken(event.seq, f"differs from the checkpoint of {checkpoint.at}")
        self.expected_prev = event.hash
        self.head = event

    def finish(self) -> ChainHead:
        checkpoint = self.checkpoint
        if checkpoint is not None and self.count < checkpoint.count:
            count = self.count
            if self.tail_only:  # only the tail was walked: how much is left before it?
                rest = AuditEvent.objects.filter(chain=self.chain).aggregate(last=Max("seq"))
                count = rest["last"] or 0
            if count == 0:
                reason = f"all events missing: the checkpoint of {checkpoint.at} counted "
            else:
                reason = (
                    f"the newest {checkpoint.count - count} event(s) missing: "
                    f"the checkpoint of {checkpoint.at} counted "
                )
            raise self.broken(count + 1, reason + str(checkpoint.count))
        head = self.head
        return ChainHead(
            self.chain,
            self.count,
            head.pk if head else None,
            head.hash if head else "",
            checkpoint,
        )


def audit_chain_verify(
    *,
    checkpoints: Mapping[int, Checkpoint] | None = None,
    since_checkpoint: bool = False,
) -> ChainReport:
    """Walk every chain of the active tenant: sequence from 1 without gaps, links, hashes
    and keyed hashes of every event.

    Against ``checkpoints`` (the tenant's last heads anchored outside the database, by
    chain) each checkpointed chain must also reach its head, with the same hash there; a
    checkpointed chain that has vanished or got shorter is reported. ``since_checkpoint``
    walks each checkpointed chain only from its checkpointed event on (what the
    checkpoint writer needs).
    """
    checkpoints = dict(checkpoints or {})
    events = AuditEvent.objects.order_by("chain", "seq")
    if since_checkpoint and checkpoints:
        tails = ~Q(chain__in=list(checkpoints))
        for chain, checkpoint in checkpoints.items():
            tails |= Q(chain=chain, seq__gte=checkpoint.seq)
        events = events.filter(tails)
    done: list[ChainHead] = []
    walk: _ChainWalk | None = None

    def new_walk(chain: int) -> _ChainWalk:
        return _ChainWalk(chain, checkpoints.pop(chain, None), since_checkpoint)

    try:
        for event in events.iterator(chunk_size=2000):
            if walk is None or event.chain != walk.chain:
                if walk is not None:
                    done.append(walk.finish())
                walk = new_walk(event.chain)
            walk.step(event)
        if walk is not None:
            done.append(walk.finish())
        for chain in sorted(checkpoints):  # checkpointed, but not one event left to walk
            done.append(new_walk(chain).finish())
    except _Broken as exc:
        verified = sum(c.events for c in done)
        return ChainReport(verified, exc.seq, exc.reason, exc.chain, exc.checkpoint)
    done.sort(key=lambda c: c.chain)
    return ChainReport(sum(c.events for c in done), None, chains=tuple(done))
