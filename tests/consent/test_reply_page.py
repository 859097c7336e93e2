"""Staff handle the SMS replies that decided nothing (/consent/replies/)."""

from __future__ import annotations

import pytest

from audit.actors import Actor
from audit.models import AuditEvent
from consent.models import ConsentDecision, ConsentRequest, UnmatchedReply
from consent.replies import reply_receive
from consent.selectors import consent_state_of
from consent.services import consent_request_create
from tests.factories import make_customer

SYSTEM = Actor.system("test")
MOBILE = "+46701234567"
LIST = "/consent/replies/"


@pytest.fixture
def ambiguous(in_a, customer_a):
    """Two customers of A share a mobile; both were asked; a bare "JA" came back."""
    with in_a():
        spouse = make_customer(name="Per Lind", mobile=MOBILE, language="sv")
        first, _t = consent_request_create(customer=customer_a, channel="sms", actor=SYSTEM)
        second, _t = consent_request_create(customer=spouse, channel="sms", actor=SYSTEM)
    outcome = reply_receive(
        sender_key="", from_number=MOBILE, body="Ja!", provider_message_id="SM1"
    )
    assert outcome.result == "unmatched"
    with in_a():
        reply = UnmatchedReply.objects.get()
    return reply, first, second


def _events(in_tenant, action):
    with in_tenant():
        return list(AuditEvent.objects.filter(action=action))


def test_staff_assign_a_reply_to_the_request_it_answers(personas, in_a, ambiguous):
    reply, first, second = ambiguous
    client = personas.client(personas.bob)
    page = client.get(LIST)
    assert page.status_code == 200 and b"Ja!" in page.content
    response = client.post(
        f"/consent/replies/{reply.pk}/assign/",
        {f"reply-{reply.pk}-request": second.pk, f"reply-{reply.pk}-decision": "granted"},
    )
    assert response.status_code == 302
    with in_a():
        assert ConsentRequest.objects.get(pk=second.pk).status == "accepted"
        assert ConsentRequest.objects.get(pk=first.pk).status == "queued"
        assert consent_state_of(second.customer).status == "granted"
        proof = ConsentDecision.objects.get()
        reply.refresh_from_db()
    assert (proof.method, proof.actor_type, proof.actor_id) == (
        "sms_reply",
        "user",
        str(personas.bob.pk),
    )
    assert (reply.status, reply.assigned_request_id, reply.handled_by_id) == (
        "assigned",
        second.pk,
        personas.bob.pk,
    )
    # Handled: the number and the text are gone, and the audit entry never had them.
    assert reply.from_number == reply.body == reply.number_key == ""
    [event] = _events(in_a, "consent.sms_reply_assigned")
    assert event.data == {"request_id": second.pk, "decision_id": proof.pk, "decision": "granted"}
    assert b"Ja!" not in client.get(LIST).content


def test_assigning_to_a_request_not_sent_to_the_number_is_a_field_error(
    personas, in_a, ambiguous, customer_b
):
    reply, _first, _second = ambiguous
    with in_a():
        other = make_customer(name="Annan", mobile="+46709999999", language="sv")
        elsewhere, _t = consent_request_create(customer=other, channel="sms", actor=SYSTEM)
    response = personas.client(personas.bob).post(
        f"/consent/replies/{reply.pk}/assign/",
        {f"reply-{reply.pk}-request": elsewhere.pk, f"reply-{reply.pk}-decision": "granted"},
    )
    assert response.status_code == 200
    assert b"Choose one of the open requests sent to this number." in response.content
    with in_a():
        assert not ConsentDecision.objects.exists()
        reply.refresh_from_db()
    assert reply.status == "open"


def test_staff_dismiss_a_reply(personas, in_a, ambiguous):
    reply, _first, _second = ambiguous
    client = personas.client(personas.bob)
    assert client.post(f"/consent/replies/{reply.pk}/dismiss/").status_code == 302
    with in_a():
        reply.refresh_from_db()
        assert not ConsentDecision.objects.exists()
        assert {r.status for r in ConsentRequest.objects.all()} == {"queued"}
    assert (reply.status, reply.body, reply.from_number) == ("dismissed", "", "")
    assert len(_events(in_a, "consent.sms_reply_dismissed")) == 1
    # A second click (another tab) changes nothing more.
    assert client.post(f"/consent/replies/{reply.pk}/dismiss/").status_code == 302
    assert len(_events(in_a, "consent.sms_reply_dismissed")) == 1


def test_another_tenant_sees_none_of_it(personas, in_a, in_b, ambiguous):
    reply, first, _second = ambiguous
    client = personas.client(personas.charlie)
    page = client.get(LIST)
    assert page.status_code == 200 and b"Ja!" not in page.content
    assert client.post(f"/consent/replies/{reply.pk}/dismiss/").status_code == 404
    response = client.post(
        f"/consent/replies/{reply.pk}/assign/",
        {f"reply-{reply.pk}-request": first.pk, f"reply-{reply.pk}-decision": "granted"},
    )
    assert response.status_code == 404
    with in_a():
        reply.refresh_from_db()
    assert reply.status == "open"
    with in_b():
        assert not UnmatchedReply.objects.exists()


def test_an_employee_may_not_handle_replies(personas, ambiguous):
    reply, _first, _second = ambiguous
    client = personas.client(personas.erik)
    assert client.get(LIST).status_code == 403
    assert client.post(f"/consent/replies/{reply.pk}/dismiss/").status_code == 403


def test_the_page_is_in_the_navigation(personas):
    assert b'consent/replies/"' in personas.client(personas.bob).get("/customers/").content
    assert b'consent/replies/"' not in personas.client(personas.erik).get("/").content


def test_a_reply_handled_in_another_tab_is_not_assigned_again(personas, in_a, ambiguous):
    reply, _first, second = ambiguous
    client = personas.client(personas.bob)
    assert client.post(f"/consent/replies/{reply.pk}/dismiss/").status_code == 302
    response = client.post(
        f"/consent/replies/{reply.pk}/assign/",
        {f"reply-{reply.pk}-request": second.pk, f"reply-{reply.pk}-decision": "granted"},
        follow=True,
    )
    assert b"Someone has already handled this reply." in response.content
    with in_a():
        assert not ConsentDecision.objects.exists()
        reply.refresh_from_db()
    assert reply.status == "dismissed"
