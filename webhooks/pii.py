"""Events and deliveries hold ids, codes and field names only; an endpoint is the tenant's."""

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import pii

from .models import Event, WebhookDelivery, WebhookEndpoint

pii.register(
    Event,
    id=ND,
    tenant=ND,
    type=ND,
    object_type=ND,
    object_id=ND,
    data=ND,
    created_at=ND,
)
pii.register(
    WebhookEndpoint,
    id=ND,
    tenant=ND,
    url=ND,
    description=ND,
    secret=ND,
    event_types=ND,
    is_active=ND,
    disabled_reason=ND,
    consecutive_failures=ND,
    created_at=ND,
)
pii.register(
    WebhookDelivery,
    id=ND,
    tenant=ND,
    endpoint=ND,
    event=ND,
    status=ND,
    attempts=ND,
    response_code=ND,
    response_ms=ND,
    error=ND,
    next_attempt_at=ND,
    replay_of=ND,
    created_at=ND,
    updated_at=ND,
)
