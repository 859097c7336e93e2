"""The audit log holds no personal data by construction (ids and codes only)."""

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import pii

from .models import AuditEvent

pii.register(
    AuditEvent,
    id=ND,
    tenant=ND,
    chain=ND,
    seq=ND,
    created_at=ND,
    actor_type=ND,
    actor_id=ND,
    action=ND,
    object_type=ND,
    object_id=ND,
    data=ND,
    prev_hash=ND,
    hash=ND,
    mac=ND,
)
