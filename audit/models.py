"""The audit log: append-only, hash-chained per tenant, free of personal data."""

from __future__ import annotations

import hashlib
import json

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel

from .anchor import event_mac, mac_matches

GENESIS_HASH = "0" * 64  # what the first event of a chain links to


class ActorType(models.TextChoices):
    USER = "user", _("User")
    API_KEY = "api_key", _("API key")
    SYSTEM = "system", _("System")
    CUSTOMER = "customer", _("Customer")


class AuditEvent(TenantOwnedModel):
    """One thing that happened. The database refuses UPDATE, DELETE and TRUNCATE here.

    ``actor_id`` and ``object_id`` are opaque ids (a user's pk, a key's prefix),
    never names or addresses, so erasure never needs to touch the log.
    """

    append_only = True  # tenancy.db_setup grants the runtime role only SELECT and INSERT

    # A tenant's log is AUDIT_CHAIN_STRIPES chains written side by side (audit/services.py,
    # docs/adr/0006-audit-chain-anchoring.md): ``seq`` runs 1, 2, 3, … within one chain.
    chain = models.PositiveSmallIntegerField(_("chain"), default=0, db_default=0)
    seq = models.PositiveBigIntegerField(_("sequence"))
    created_at = models.DateTimeField(_("time"), db_index=True)
    actor_type = models.CharField(_("actor type"), max_length=20, choices=ActorType.choices)
    actor_id = models.CharField(_("actor"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # HMAC over ``hash`` with AUDIT_CHAIN_KEY, a key the database never sees (audit/anchor.py).
    mac = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # Sequence numbers count within a chain: across chains, time then row id.
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "chain", "seq"], name="audit_event_chain_seq_uniq"
            )
        ]
        indexes = [models.Index(fields=["tenant", "created_at", "id"], name="audit_event_time_idx")]

    def __str__(self) -> str:
        return f"{self.chain}/#{self.seq} {self.action}"

    def compute_hash(self) -> str:
        payload = {
            "tenant": self.tenant_id,
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "data": self.data,
            "prev_hash": self.prev_hash,
        }
        if self.chain:  # chain 0 hashes as before chains existed, so old events still verify
            payload["chain"] = self.chain
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def compute_mac(self) -> str:
        return event_mac(self.hash)

    def mac_is_valid(self) -> bool:
        return mac_matches(self.compute_mac(), self.mac)
