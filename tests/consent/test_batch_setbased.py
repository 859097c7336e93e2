"""The set-based batch chunk (consent/batch_chunk.py) does what asking one by one did.

Each scenario builds the same customers twice (twins, in the same order, so their items
come in the same order), runs one twin's batch one by one through
``consent_request_create`` (``one_by_one=True``, the path before issue 13) and the other's
set-based, and compares items, requests, states, messages, reply routes, audit entries,
batch counts and the SMS count field by field. Between the twins only what must differ
is normalised: ids, the reply code (random), times (compared as durations).
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from audit.actors import Actor
from audit.models import AuditEvent
from consent import tokens
from consent.batch_chunk import NO_ADDRESS
from consent.batches import consent_batch_chunk, consent_batch_start
from consent.delivery import REFERENCE_PREFIX
from consent.models import (
    BatchOutcome,
    ConsentBatch,
    ConsentBatchItem,
    ConsentRequest,
    ConsentState,
    ReplyRoute,
    RequestStatus,
)
from consent.replies import ROUTE_KEEP, is_code
from consent.selectors import token_hash
from consent.services import consent_request_create
from customers.models import Customer, CustomerStatus
from notifications.models import NotificationSettings, OutboundMessage
from notifications.services import notification_settings_update, sms_settings_update

SYSTEM = Actor.system("test")

# role -> the customer's fields. The roles cover every outcome of a batch to "any".
ANY_ROLES = {
    "email_sv": {"email": "e1@example.test", "language": "sv"},
    "email_en": {"email": "e2@example.test", "language": "en"},
    "both": {"email": "b@example.test", "mobile": "+46701000001", "language": "sv"},
    "mobile_sv": {"mobile": "+46701000002", "language": "sv"},
    "mobile_default": {"mobile": "+46701000003", "language": ""},  # the tenant's language
    "failed_before": {"mobile": "+46701000006", "language": "sv"},  # asked again
    "mobile_en": {"mobile": "+46701000004", "language": "en"},  # over the SMS cap
    "mobile_over": {"mobile": "+46701000005", "language": "sv"},  # over the SMS cap
    "neither": {"language": "sv"},  # no_address
    "danish": {"email": "d@example.test", "language": "da"},  # no_terms
    "waiting": {"email": "w@example.test", "language": "sv"},  # open_request
    "expired_before": {"email": "x@example.test", "language": "sv"},  # asked again
    "anonymized": {"email": "a@example.test", "language": "sv"},  # invalid
}
SMS_CAP_LEFT = 3  # of the five SMS: failed_before, mobile_sv, mobile_default get it


def _customers(roles: dict, twin: str) -> dict:
    # Direct rows (a factory per customer would be slow), the same for both twins except
    # the name; the number series is not what is compared.
    customers = {}
    for n, (role, fields) in enumerate(roles.items()):
        customers[role] = Customer.objects.create(
            number=f"{twin}{n:03d}", name=f"Kund {role}", country="SE", **fields
        )
    return customers


def _prepare(customers: dict) -> None:
    """What the roles need before the batch: an open request, an expired one, a failed one."""
    if "waiting" in customers:
        consent_request_create(customer=customers["waiting"], channel="email", actor=SYSTEM)
    if "expired_before" in customers:
        old, _token = consent_request_create(
            customer=customers["expired_before"], channel="email", actor=SYSTEM
        )
        ConsentRequest.objects.filter(pk=old.pk).update(expires_at=old.created_at)
    if "failed_before" in customers:
        old, _token = consent_request_create(
            customer=customers["failed_before"], channel="sms", actor=SYSTEM
        )
        ConsentRequest.objects.filter(pk=old.pk).update(status=RequestStatus.FAILED)


def _sms_cap(left: int) -> int:
    """Leave ``left`` SMS of this month's cap; return the count so far."""
    row = NotificationSettings.objects.get()
    used = row.sms_month_count if row.sms_month else 0
    sms_settings_update(enabled=True, sender="", monthly_cap=used + left, actor=SYSTEM)
    return used


def _run(roles: dict, twin: str, *, channel: str, one_by_one: bool, cap_left: int | None):
    customers = _customers(roles, twin)
    if cap_left is not None:
        _sms_cap(100)  # room for the requests made before the batch
    _prepare(customers)
    used = _sms_cap(cap_left) if cap_left is not None else None
    batch = consent_batch_start(
        customer_ids=[c.pk for c in customers.values()],
        channel=channel,
        source="search",
        actor=SYSTEM,
    )
    if "anonymized" in customers:  # anonymized after the batch started
        Customer.objects.filter(pk=customers["anonymized"].pk).update(
            status=CustomerStatus.ANONYMIZED
        )
    first_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    with transaction.atomic():
        more = consent_batch_chunk(batch_id=batch.pk, limit=100, one_by_one=one_by_one)
    sms_taken = None
    if used is not None:
        sms_taken = NotificationSettings.objects.get().sms_month_count - used
    return _outcome(customers, batch, first_seq, sms_taken, more)


_LINK = re.compile(r"\[\[late:consent\.link:(\d+):1\]\]")


def _outcome(customers: dict, batch, first_seq: int, sms_taken, more) -> dict:
    role_of = {c.pk: role for role, c in customers.items()}
    batch = ConsentBatch.objects.get(pk=batch.pk)
    out = {
        "more": more,
        "batch": (batch.status, batch.total, batch.sent, batch.skipped, batch.failed),
        "sms_taken": sms_taken,
        "items": {},
        "requests": {},
        "states": {},
        "messages": {},
        "routes": {},
        "audit": {},
    }
    for item in ConsentBatchItem.objects.filter(batch=batch):
        out["items"][role_of[item.customer_id]] = (item.outcome, item.error, bool(item.request_id))
    requests = {r.pk: r for r in ConsentRequest.objects.filter(batch=batch)}
    for r in requests.values():
        role = role_of[r.customer_id]
        # The token is derived from the id and only its hash stored.
        assert r.token_hash == token_hash(tokens.request_token(r.pk, tokens.FIRST))
        assert r.dispatch_ready_at is not None
        if r.channel == "sms":
            assert is_code(r.sms_reply_code)
        else:
            assert r.sms_reply_code == ""
        out["requests"][role] = {
            "channel": r.channel,
            "destination": r.destination,
            "language": r.language,
            "terms": (r.terms.language, r.terms.version),
            "status": r.status,
            "valid_for": r.expires_at - r.created_at,
            "created_by": r.created_by_id,
            "actor": (r.actor_type, r.actor_id),
            "reply_code": bool(r.sms_reply_code),
        }
    for state in ConsentState.objects.filter(customer_id__in=role_of):
        last = requests.get(state.last_request_id)
        out["states"][role_of[state.customer_id]] = (
            state.status,
            "this batch" if last else "before",
        )
    references = {f"{REFERENCE_PREFIX}{pk}": pk for pk in requests}
    for m in OutboundMessage.objects.filter(reference__in=references):
        request = requests[references[m.reference]]
        role = role_of[m.customer_id]
        assert _LINK.search(m.body)[1] == str(request.pk)  # the marker, never the link
        body = _LINK.sub("[[link]]", m.body)
        if request.sms_reply_code:
            body = body.replace(request.sms_reply_code, "CODE")
        out["messages"][role] = {
            "channel": m.channel,
            "destination": m.destination,
            "language": m.language,
            "template": m.template,
            "subject": m.subject,
            "body": body,
            "status": m.status,
            "queued": m.queued_at is not None,
        }
    for route in ReplyRoute.objects.filter(request_id__in=requests):
        request = requests[route.request_id]
        assert route.code == request.sms_reply_code
        assert route.keep_until == request.expires_at + ROUTE_KEEP
        out["routes"][role_of[request.customer_id]] = (route.sender, route.tenant_id)
    for event in AuditEvent.objects.filter(seq__gt=first_seq or 0, action="consent.requested"):
        request = requests[int(event.object_id)]
        data = dict(event.data)
        data["customer_id"] = role_of[data["customer_id"]]
        out["audit"][role_of[request.customer_id]] = (
            event.actor_type,
            event.actor_id,
            event.object_type,
            data,
        )
    return out


def _compare(roles: dict, **kwargs) -> dict:
    one_by_one = _run(roles, "A", one_by_one=True, **kwargs)
    set_based = _run(roles, "B", one_by_one=False, **kwargs)
    for key in one_by_one:
        assert set_based[key] == one_by_one[key], key
    return set_based


def test_any_channel_every_rule_as_one_by_one(in_a, terms_a):
    with in_a():
        out = _compare(ANY_ROLES, channel="any", cap_left=SMS_CAP_LEFT)
    items = out["items"]
    # The fixture reaches every outcome the rules give for "any" (else it proves little).
    assert items == {
        "email_sv": ("sent", "", True),
        "email_en": ("sent", "", True),
        "both": ("sent", "", True),
        "mobile_sv": ("sent", "", True),
        "mobile_default": ("sent", "", True),
        "mobile_en": ("failed", "sms_cap_reached", False),
        "mobile_over": ("failed", "sms_cap_reached", False),
        "neither": ("skipped", "no_address", False),
        "danish": ("failed", "no_terms", False),
        "waiting": ("skipped", "open_request", False),
        "expired_before": ("sent", "", True),
        "failed_before": ("sent", "", True),
        "anonymized": ("failed", "invalid", False),
    }
    assert out["sms_taken"] == SMS_CAP_LEFT
    assert out["batch"][1:] == (13, 7, 2, 4)
    assert out["requests"]["both"]["channel"] == "email"
    assert out["requests"]["mobile_default"]["language"] == "sv"
    assert out["messages"]["email_en"]["language"] == "en"
    assert "JA CODE" in out["messages"]["mobile_sv"]["body"]
    assert set(out["routes"]) == {"mobile_sv", "mobile_default", "failed_before"}
    assert set(out["audit"]) == set(out["requests"])
    assert out["states"]["waiting"] == ("requested", "before")


def test_email_channel_as_one_by_one(in_a, terms_a):
    roles = {role: ANY_ROLES[role] for role in ("email_sv", "both", "mobile_sv", "neither")}
    with in_a():
        out = _compare(roles, channel="email", cap_left=None)
    assert out["items"]["mobile_sv"] == ("skipped", NO_ADDRESS["email"], False)
    assert out["items"]["both"] == ("sent", "", True)
    assert out["sms_taken"] is None


def test_sms_channel_as_one_by_one(in_a, terms_a):
    roles = {role: ANY_ROLES[role] for role in ("email_sv", "both", "mobile_en", "neither")}
    with in_a():
        out = _compare(roles, channel="sms", cap_left=10)
    assert out["items"]["email_sv"] == ("skipped", NO_ADDRESS["sms"], False)
    assert out["requests"]["both"]["channel"] == "sms"
    assert out["messages"]["mobile_en"]["body"].count("YES CODE") == 1
    assert out["sms_taken"] == 2


@pytest.mark.no_sms
def test_sms_not_subscribed_as_one_by_one(in_a, terms_a):
    roles = {role: ANY_ROLES[role] for role in ("email_sv", "both", "mobile_sv", "neither")}
    with in_a():
        notification_settings_update(sms_enabled=False)
        out = _compare(roles, channel="any", cap_left=None)
    assert out["items"]["mobile_sv"] == ("failed", "sms_not_enabled", False)
    assert out["items"]["both"] == ("sent", "", True)  # email first: no SMS needed


def test_a_rolled_back_chunk_queues_no_send(in_a, terms_a, django_capture_on_commit_callbacks):
    """The send tasks go after the chunk's commit: none for a chunk that rolls back."""
    with in_a():
        customers = _customers({k: ANY_ROLES[k] for k in ("email_sv", "mobile_sv")}, "R")
        batch = consent_batch_start(
            customer_ids=[c.pk for c in customers.values()],
            channel="any",
            source="search",
            actor=SYSTEM,
        )
        with (
            django_capture_on_commit_callbacks() as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            consent_batch_chunk(batch_id=batch.pk)
            assert OutboundMessage.objects.count() == 2
            raise RuntimeError("the worker died")
        assert callbacks == []
        assert not OutboundMessage.objects.exists()
        assert ConsentBatchItem.objects.filter(outcome=BatchOutcome.PENDING).count() == 2
        # Run again: each customer is asked once, and one callback sends both tasks.
        with django_capture_on_commit_callbacks() as callbacks:
            assert consent_batch_chunk(batch_id=batch.pk) is False
            assert consent_batch_chunk(batch_id=batch.pk) is False
        assert ConsentRequest.objects.filter(batch=batch).count() == 2
        assert OutboundMessage.objects.count() == 2
    assert len(callbacks) == 1
