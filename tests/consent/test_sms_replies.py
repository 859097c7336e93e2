"""SMS replies decide only the request they answer (issue 8, item 5).

Two tenants share the platform's sender (its Twilio messaging service) and both ask the
same mobile number. Replies come in through the real, Twilio-signed inbound webhook.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from audit.actors import Actor
from audit.models import AuditEvent
from consent.models import (
    ConsentDecision,
    ConsentRequest,
    ReplyRoute,
    UnmatchedReply,
    UnroutedReply,
)
from consent.replies import parse_reply, reply_receive
from consent.selectors import consent_state_of
from consent.services import consent_request_create, consent_terms_publish
from notifications.models import OutboundMessage
from notifications.services import notification_settings_update
from tests.factories import make_customer

from .conftest import NB_TEXT

SYSTEM = Actor.system("test")
INBOUND = "/hooks/twilio/inbound/"
MOBILE = "+46701234567"
SHARED_POOL_NUMBER = "+46769000000"  # a number of the platform's messaging service
B_OWN_NUMBER = "+4759000001"  # tenant B's own sender
CODE = re.compile(r"\b(?:JA|YES|NEJ|NEI|NO) ([A-Z0-9]{4})\b")


def _sign(params: dict) -> str:
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
        settings.SITE_URL + INBOUND, params
    )


_sids = iter(range(10**6))


def reply(body: str, *, to: str = SHARED_POOL_NUMBER, shared: bool = True, sign: bool = True):
    """The customer answers ``body``; Twilio posts it to us, signed."""
    params = {
        "MessageSid": f"SM{next(_sids):032d}",
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "From": MOBILE,
        "To": to,
        "Body": body,
    }
    if shared:
        params["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    headers = {"HTTP_X_TWILIO_SIGNATURE": _sign(params)} if sign else {}
    response = Client().post(INBOUND, params, **headers)
    assert response.status_code == (200 if sign else 403)
    return response


@pytest.fixture
def customer_b_sms(in_b, terms_b):
    with in_b():
        return make_customer(name="Kari Nordmann", mobile=MOBILE, language="nb")


def ask(in_tenant, customer, language: str | None = None) -> tuple[ConsentRequest, str]:
    """An SMS consent request; returns it and the reply code its SMS carries."""
    with in_tenant():
        request, _token = consent_request_create(
            customer=customer, channel="sms", language=language, actor=SYSTEM
        )
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
        # It went out (the send path is not what this file tests).
        OutboundMessage.objects.filter(pk=message.pk).update(
            status="sent", sent_at=timezone.now(), provider="twilio"
        )
    codes = set(CODE.findall(message.body))
    assert len(codes) == 1, message.body
    return request, codes.pop()


def status(in_tenant, request: ConsentRequest) -> tuple[str, str]:
    with in_tenant():
        request.refresh_from_db()
        state = consent_state_of(request.customer)
        return request.status, state.status if state else "none"


def unmatched(in_tenant) -> list[UnmatchedReply]:
    with in_tenant():
        return list(UnmatchedReply.objects.all())


@pytest.fixture
def both_asked(in_a, in_b, customer_a, customer_b_sms):
    """Tenants A and B, both on the shared sender, asked the same number."""
    request_a, code_a = ask(in_a, customer_a)
    request_b, code_b = ask(in_b, customer_b_sms)
    return request_a, code_a, request_b, code_b


# --- the code decides, and only its request -------------------------------------------


def test_a_reply_with_b_s_code_decides_only_b_s_request(in_a, in_b, both_asked):
    request_a, code_a, request_b, code_b = both_asked
    assert code_a != code_b
    reply(f"Ja {code_b.lower()}!")
    assert status(in_b, request_b) == ("accepted", "granted")
    assert status(in_a, request_a) == ("queued", "requested")
    with in_b():
        proof = ConsentDecision.objects.get()
    assert (proof.method, proof.actor_type, proof.request_id) == (
        "sms_reply",
        "customer",
        request_b.pk,
    )
    with in_a():
        assert not ConsentDecision.objects.exists()


def test_a_no_with_a_s_code_declines_only_a_s_request(in_a, in_b, both_asked):
    request_a, code_a, request_b, _code_b = both_asked
    reply(f"NEJ {code_a}")
    assert status(in_a, request_a) == ("declined", "declined")
    assert status(in_b, request_b) == ("queued", "requested")


def test_a_bare_ja_to_the_shared_sender_decides_nothing(in_a, in_b, both_asked):
    request_a, _code_a, request_b, _code_b = both_asked
    reply("JA")
    assert status(in_a, request_a) == ("queued", "requested")
    assert status(in_b, request_b) == ("queued", "requested")
    # Neither tenant may be told (it may be the other's customer's answer): the platform
    # keeps the provider's id and what was understood, no number and no text.
    assert unmatched(in_a) == unmatched(in_b) == []
    row = UnroutedReply.objects.get()
    assert (row.reason, row.decision, row.has_code, row.tenants) == (
        "ambiguous",
        "granted",
        False,
        2,
    )
    assert row.provider_message_id.startswith("SM")


def test_an_unknown_code_decides_nothing(in_a, in_b, both_asked):
    request_a, code_a, request_b, code_b = both_asked
    other = next(c for c in ("K7QX", "M3ZA", "P9RT") if c not in (code_a, code_b))
    reply(f"JA {other}")
    assert status(in_a, request_a)[0] == status(in_b, request_b)[0] == "queued"
    assert UnroutedReply.objects.get().reason == "unknown_code"


def test_a_bare_ja_decides_nothing_and_is_shown_when_two_requests_could_be_meant(
    in_a, customer_a, personas
):
    with in_a():
        spouse = make_customer(name="Per Lind", mobile=MOBILE, language="sv")
    first, _code = ask(in_a, customer_a)
    second, _code = ask(in_a, spouse)
    reply("Ja tack")
    assert status(in_a, first)[0] == status(in_a, second)[0] == "queued"
    [row] = unmatched(in_a)
    assert (row.reason, row.decision, row.from_number, row.body) == (
        "ambiguous",
        "granted",
        MOBILE,
        "Ja tack",
    )
    page = personas.client(personas.bob).get("/consent/replies/")
    assert page.status_code == 200
    assert b"Ja tack" in page.content and MOBILE.encode() in page.content
    assert b"Lind" in page.content and b"Per Lind" in page.content


def test_a_bare_ja_decides_the_one_open_request_when_only_one_tenant_wrote(in_a, customer_a):
    request, _code = ask(in_a, customer_a)
    reply("JA")
    assert status(in_a, request) == ("accepted", "granted")


def test_a_late_answer_to_a_decided_request_is_shown_not_applied(in_a, customer_a, in_b):
    request, code = ask(in_a, customer_a)
    reply(f"JA {code}")
    reply(f"NEJ {code}")
    assert status(in_a, request) == ("accepted", "granted")
    [row] = unmatched(in_a)
    assert (row.reason, row.decision, row.code) == ("closed", "declined", code)
    assert unmatched(in_b) == []


def test_an_unparseable_text_is_shown_to_the_one_tenant_that_wrote(in_a, customer_a):
    request, code = ask(in_a, customer_a)
    reply(f"Vem är ni? {code}")
    assert status(in_a, request)[0] == "queued"
    [row] = unmatched(in_a)
    assert (row.reason, row.decision, row.code) == ("unparseable", "", code)


# --- a tenant's own sender ---------------------------------------------------------------


def test_a_tenant_s_own_sender_routes_a_bare_ja(in_a, in_b, customer_a, customer_b_sms):
    with in_b():
        notification_settings_update(sms_sender=B_OWN_NUMBER)
    request_a, _code_a = ask(in_a, customer_a)  # the shared sender
    request_b, _code_b = ask(in_b, customer_b_sms)  # B's own number
    reply("JA", to=B_OWN_NUMBER, shared=False)
    assert status(in_b, request_b) == ("accepted", "granted")
    assert status(in_a, request_a) == ("queued", "requested")


def test_a_reply_to_a_number_we_do_not_send_from_reaches_nobody(in_a, customer_a):
    request, code = ask(in_a, customer_a)
    reply(f"JA {code}", to="+4790000009", shared=False)
    assert status(in_a, request)[0] == "queued"
    assert UnroutedReply.objects.get().reason == "unknown_sender"
    assert unmatched(in_a) == []


# --- STOP --------------------------------------------------------------------------------


def test_stop_withdraws_only_at_the_tenants_it_can_be_attributed_to(
    in_a, in_b, customer_a, customer_b_sms
):
    with in_b():
        notification_settings_update(sms_sender=B_OWN_NUMBER)
    request_a, code_a = ask(in_a, customer_a)
    request_b, _code_b = ask(in_b, customer_b_sms)
    reply(f"JA {code_a}")
    reply("JA", to=B_OWN_NUMBER, shared=False)
    assert status(in_a, request_a)[1] == status(in_b, request_b)[1] == "granted"

    # STOP to the shared sender: A wrote from it, B did not.
    reply("STOP")
    assert status(in_a, request_a)[1] == "withdrawn"
    assert status(in_b, request_b)[1] == "granted"

    # STOP to B's own number reaches B.
    reply("Stopp", to=B_OWN_NUMBER, shared=False)
    assert status(in_b, request_b)[1] == "withdrawn"
    with in_a():
        assert ConsentDecision.objects.filter(decision="withdrawn").count() == 1


def test_stop_with_a_code_withdraws_at_that_tenant_only(in_a, in_b, both_asked):
    request_a, _code_a, request_b, code_b = both_asked
    reply(f"STOP {code_b}")
    assert status(in_b, request_b)[1] == "withdrawn"
    assert status(in_a, request_a)[1] == "requested"


def test_a_bare_stop_on_the_shared_sender_tells_every_tenant_that_wrote_from_it(
    in_a, in_b, both_asked
):
    request_a, _code_a, request_b, _code_b = both_asked
    reply("STOP")
    assert status(in_a, request_a)[1] == status(in_b, request_b)[1] == "withdrawn"


# --- the code in the SMS -----------------------------------------------------------------

WORDS = {"sv": ("JA", "NEJ"), "da": ("JA", "NEJ"), "nb": ("JA", "NEI"), "en": ("YES", "NO")}


@pytest.mark.parametrize("language", ["sv", "da", "nb", "en"])
def test_the_sms_asks_for_the_answer_with_the_code_in_the_customers_language(
    in_a, personas, language
):
    with in_a():
        consent_terms_publish(language=language, text=NB_TEXT, actor=SYSTEM)
        customer = make_customer(name="Kund", mobile=MOBILE, language=language)
        request, _token = consent_request_create(customer=customer, channel="sms", actor=SYSTEM)
        body = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}").body
        request.refresh_from_db()
    yes, no = WORDS[language]
    code = request.sms_reply_code
    assert len(code) == 4 and not set(code) & set("0O1I")
    assert f"{yes} {code}" in body and f"{no} {code}" in body


def test_the_reminder_asks_with_the_same_code(in_a, customer_a):
    from datetime import timedelta

    from consent.lifecycle import lifecycle_chunk

    request, code = ask(in_a, customer_a)
    with in_a():
        ConsentRequest.objects.filter(pk=request.pk).update(
            created_at=timezone.now() - timedelta(days=8)
        )
        lifecycle_chunk()
        bodies = list(
            OutboundMessage.objects.filter(
                reference=f"consent_request:{request.pk}", template="consent_reminder"
            ).values_list("body", flat=True)
        )
    assert len(bodies) == 1 and f"JA {code}" in bodies[0]


def ask_closing_the_last(in_tenant, customer) -> str:
    """Another request to the same number: the open one first expires (only one may be
    open per customer; their routes stay, so the codes must still differ)."""
    with in_tenant():
        ConsentRequest.objects.filter(customer=customer).update(status="expired")
    return ask(in_tenant, customer)[1]


def test_codes_are_unique_per_sender_and_number(in_a, customer_a):
    codes = {ask_closing_the_last(in_a, customer_a) for _i in range(30)}
    assert len(codes) == 30
    route = ReplyRoute.objects.first()
    assert MOBILE not in route.number_key and "701234567" not in route.number_key
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplyRoute.objects.create(
            sender=route.sender,
            number_key=route.number_key,
            code=route.code,
            tenant=route.tenant,
            request_id=route.request_id,
            keep_until=route.keep_until,
        )


def test_an_email_request_has_no_code(in_a, customer_a):
    with in_a():
        request, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        request.refresh_from_db()
    assert request.sms_reply_code == "" and not ReplyRoute.objects.exists()


# --- the webhook -------------------------------------------------------------------------


def test_a_forged_reply_changes_nothing(in_a, customer_a):
    request, code = ask(in_a, customer_a)
    reply(f"JA {code}", sign=False)
    assert status(in_a, request)[0] == "queued"
    assert not UnroutedReply.objects.exists() and unmatched(in_a) == []


def test_a_nul_byte_in_a_reply_is_no_server_error(in_a, customer_a):
    request, code = ask(in_a, customer_a)
    reply(f"JA\x00 {code}")
    assert status(in_a, request)[0] == "accepted"


def test_the_audit_log_holds_no_number_and_no_text(in_a, customer_a, personas):
    with in_a():
        spouse = make_customer(name="Per Lind", mobile=MOBILE, language="sv")
    ask(in_a, customer_a)
    ask(in_a, spouse)
    reply("Ja men bara mejl")
    with in_a():
        events = list(AuditEvent.objects.filter(action__startswith="consent.sms_reply"))
    assert [e.action for e in events] == ["consent.sms_reply_unmatched"]
    assert "mejl" not in str(events[0].data) and "70123" not in str(events[0].data)


# --- reading a reply ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "decision", "code"),
    [
        ("JA K7QX", "granted", "K7QX"),
        ("ja, k7qx!", "granted", "K7QX"),
        ("JAK7QX", "granted", "K7QX"),
        ("K7QX nej", "declined", "K7QX"),
        ("Ja tack", "granted", None),
        ("Yes", "granted", None),
        ("Nei takk", "declined", None),
        ("STOPP", "withdrawn", None),
        ("JA NEJ K7QX", None, "K7QX"),
        ("JA K7QX M3ZA", "granted", None),
        ("Hej!", None, None),
        ("", None, None),
    ],
)
def test_parse_reply(body, decision, code):
    parsed = parse_reply(body)
    assert (parsed.decision, parsed.code) == (decision, code)


def test_reply_receive_with_no_route_keeps_nothing_personal(db):
    outcome = reply_receive(sender_key="", from_number=MOBILE, body="JA K7QX")
    assert outcome.result == "unrouted"
    assert UnroutedReply.objects.get().reason == "no_open_request"


def test_requests_sent_before_reply_codes_get_one_from_the_backfill(in_a, customer_a):
    from consent.replies import reply_routes_backfill
    from tenancy.context import tenant_scope

    request, _code = ask(in_a, customer_a)
    # As it was before this change: no code, no route.
    ReplyRoute.objects.all().delete()
    with in_a():
        ConsentRequest.objects.filter(pk=request.pk).update(sms_reply_code="")
    reply("JA")
    assert status(in_a, request)[0] == "queued"
    with tenant_scope(customer_a.tenant):
        assert reply_routes_backfill() == 1
        assert reply_routes_backfill() == 0
    reply("JA")
    assert status(in_a, request) == ("accepted", "granted")
