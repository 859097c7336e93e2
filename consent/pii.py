"""Personal-data classification of consent data.

The proof (who decided what, when, under which text) is kept after erasure; the
customer it points to is anonymized by customers/. What could identify a person
beyond that — the request's address, the decision's IP, user agent, POS context
(staff names) and free-text note — is scrubbed. Decisions are append-only in the
database, so their fields are blanked through consent_decision_scrub().
"""

from anonymization.registry import IDENTITY, PHONE_EMAIL, Scrub, personal, pii
from anonymization.registry import NOT_PERSONAL as ND

from .models import (
    ConsentBatch,
    ConsentBatchItem,
    ConsentDecision,
    ConsentRequest,
    ConsentSettings,
    ConsentState,
    ConsentTerms,
    ReplyRoute,
    UnmatchedReply,
    UnroutedReply,
)


def _scrub_decisions(pks: list[int]) -> int:
    from .services import consent_decision_scrub

    return consent_decision_scrub(decision_ids=pks)


# Decisions are append-only: the runtime role cannot update them, and the database lets
# only consent_decision_scrub() blank exactly these four fields, together.
DECISION_SCRUB = {
    "ip": personal(Scrub.NULL, category=IDENTITY, note="consent_decision_scrub()"),
    "user_agent": personal(Scrub.BLANK, category=IDENTITY, note="consent_decision_scrub()"),
    "context": personal(Scrub.BLANK, category=IDENTITY, note="POS context: staff, till"),
    "note": personal(Scrub.BLANK, category=IDENTITY, free_text=True),
}

pii.register(
    ConsentSettings,
    id=ND,
    tenant=ND,
    request_valid_days=ND,
    reminder_after_days=ND,
    consent_valid_months=ND,
    renewal_notice_days=ND,
)
pii.register(
    ConsentTerms,
    id=ND,
    tenant=ND,
    language=ND,
    version=ND,
    text=ND,
    text_sha256=ND,
    published_at=ND,
    published_by=ND,
)
pii.register(
    ConsentRequest,
    id=ND,
    tenant=ND,
    customer=ND,
    channel=ND,
    destination=personal(Scrub.BLANK, category=PHONE_EMAIL),
    language=ND,
    terms=ND,
    token_hash=ND,
    status=ND,
    expires_at=ND,
    created_at=ND,
    updated_at=ND,
    created_by=ND,
    actor_type=ND,
    actor_id=ND,
    dispatch_ready_at=ND,
    reminded_at=ND,
    batch=ND,
    sms_reply_code=ND,
)
pii.register(
    ConsentDecision,
    id=ND,
    tenant=ND,
    receipt_id=ND,
    customer=ND,
    decision=ND,
    method=ND,
    terms=ND,
    terms_version=ND,
    terms_language=ND,
    terms_sha256=ND,
    decided_at=ND,
    actor_type=ND,
    actor_id=ND,
    request=ND,
    how=ND,
    **DECISION_SCRUB,
)
# The proof keeps its non-personal part: decision, time, method, terms version and hash.
pii.reach(ConsentRequest, "customer")
pii.reach(ConsentDecision, "customer", bulk=_scrub_decisions)
pii.register(
    ConsentState,
    id=ND,
    tenant=ND,
    customer=ND,
    status=ND,
    terms_version=ND,
    decided_at=ND,
    method=ND,
    last_request=ND,
    valid_until=ND,
    renewal_requested_at=ND,
    updated_at=ND,
)
# A batch holds counts; its items point at customers and say only what became of them.
pii.register(
    ConsentBatch,
    id=ND,
    tenant=ND,
    channel=ND,
    source=ND,
    status=ND,
    total=ND,
    sent=ND,
    skipped=ND,
    failed=ND,
    created_at=ND,
    finished_at=ND,
    worked_at=ND,
    created_by=ND,
    actor_type=ND,
    actor_id=ND,
)
pii.register(
    ConsentBatchItem, id=ND, tenant=ND, batch=ND, customer=ND, outcome=ND, request=ND, error=ND
)
# SMS replies (consent.replies). A route holds a keyed hash of the customer's number
# (pseudonymous, so personal): the row goes with it, and by itself 90 days after the
# request expires.
pii.register(
    ReplyRoute,
    id=ND,
    sender=ND,
    number_key=personal(
        Scrub.DELETE_ROW,
        note="keyed hash of the number; purged on expiry",
        category=PHONE_EMAIL,
    ),
    code=ND,
    tenant=ND,
    request_id=ND,
    created_at=ND,
    keep_until=ND,
)
# A reply no request took: the number and the text are blanked once staff handle it.
pii.register(
    UnmatchedReply,
    id=ND,
    tenant=ND,
    received_at=ND,
    from_number=personal(Scrub.BLANK, category=PHONE_EMAIL),
    number_key=personal(Scrub.BLANK, category=PHONE_EMAIL),
    sender=ND,
    body=personal(Scrub.BLANK, category=PHONE_EMAIL, free_text=True),
    decision=ND,
    code=ND,
    reason=ND,
    status=ND,
    provider_message_id=ND,
    assigned_request_id=ND,
    handled_at=ND,
    handled_by=ND,
)
pii.reach(ReplyRoute, "request_id", parent=ConsentRequest)
# A reply staff assigned to a request is that customer's.
pii.reach(UnmatchedReply, "assigned_request_id", parent=ConsentRequest)
# A reply no tenant could be told of keeps no number and no text, only the provider's id.
pii.register(
    UnroutedReply,
    id=ND,
    received_at=ND,
    sender=ND,
    provider_message_id=ND,
    decision=ND,
    has_code=ND,
    reason=ND,
    tenants=ND,
)
