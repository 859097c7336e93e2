"""Personal-data classification of sent messages.

A message's address and text identify its recipient; when the customer is
erased they are scrubbed, and the message row stays as a count (channel,
status, dates) with no content.
"""

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import PHONE_EMAIL, Scrub, personal, pii

from .models import MessageEvent, NotificationSettings, OutboundMessage, ProviderRoute
from .outbox import event_scrub, outbox_forget

pii.register(
    OutboundMessage,
    id=ND,
    tenant=ND,
    customer=ND,
    channel=ND,
    destination=personal(Scrub.REPLACE, "anonymized", category=PHONE_EMAIL),
    language=ND,
    template=ND,
    subject=personal(Scrub.BLANK, category=PHONE_EMAIL, free_text=True),
    body=personal(Scrub.REPLACE, "—", category=PHONE_EMAIL, free_text=True),
    status=ND,
    provider=ND,
    provider_id=ND,
    attempts=ND,
    # A provider's error text may quote the address ("550 <x@y> unknown").
    last_error=personal(Scrub.BLANK, category=PHONE_EMAIL, free_text=True),
    error_code=ND,
    reference=ND,
    created_at=ND,
    queued_at=ND,
    claimed_at=ND,
    next_attempt_at=ND,
    sent_at=ND,
    delivered_at=ND,
    failed_at=ND,
)
pii.register(
    MessageEvent,
    id=ND,
    tenant=ND,
    message=ND,
    provider=ND,
    event_id=ND,
    status=ND,
    received_at=ND,
    # Stored through an allow-list of non-personal keys (services._safe_payload);
    # classified personal anyway, as a provider may add fields.
    payload=personal(
        Scrub.BLANK,
        note="provider payload, filtered on receipt; emptied by notifications_event_scrub()",
        category=PHONE_EMAIL,
    ),
)
# Sent messages are part of "phone and email". The dev and test outboxes (file and
# locmem backends) forget their copies after commit; a real provider keeps its own.
pii.reach(OutboundMessage, "customer", forget=outbox_forget)
pii.reach(MessageEvent, "message", parent=OutboundMessage, bulk=event_scrub)
pii.register(
    NotificationSettings,
    id=ND,
    tenant=ND,
    sms_enabled=ND,
    sms_sender=ND,
    send_rate_per_second=ND,
    sms_monthly_cap=ND,
    sms_month=ND,
    sms_month_count=ND,
)
pii.register(
    ProviderRoute, id=ND, provider=ND, provider_id=ND, tenant=ND, message_id=ND, created_at=ND
)
