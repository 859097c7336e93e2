"""One open consent request per customer (issue 12, item 6: "200 requests sent 200 emails
to one person"). The rule is in consent.services.consent_request_create, so the API (409
with the open request), the customer card (an error), batches (skipped, "open_request")
and renewals all keep it, and concurrent requests cannot slip past it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from consent.batches import consent_batch_chunk, consent_batch_start, error_label
from consent.lifecycle import lifecycle_chunk
from consent.models import BatchOutcome, ConsentBatchItem, ConsentRequest, RequestStatus
from consent.services import (
    OpenRequestExists,
    consent_record,
    consent_request_create,
    consent_settings_update,
    consent_terms_publish,
)
from notifications.models import OutboundMessage
from tenancy.context import tenant_context
from tests.factories import make_customer

from .conftest import SV_TEXT

SYSTEM = Actor.system("tests")
PROBLEM = "application/problem+json"


def send(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def requests_url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/consent-requests/"


def counts(in_a, customer) -> tuple[int, int]:
    """The customer's requests and the messages sent for them."""
    with in_a():
        pks = list(ConsentRequest.objects.filter(customer=customer).values_list("pk", flat=True))
        messages = OutboundMessage.objects.filter(
            reference__in=[f"consent_request:{pk}" for pk in pks]
        ).count()
    return len(pks), messages


# ---------------------------------------------------------------------------
# The service


def test_a_second_request_while_one_is_open_is_refused_with_the_open_one(in_a, customer_a):
    with in_a():
        first, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        with pytest.raises(OpenRequestExists) as refused:
            consent_request_create(customer=customer_a, channel="sms", actor=SYSTEM)
    assert refused.value.request.pk == first.pk
    assert refused.value.code == "open_request"
    assert counts(in_a, customer_a) == (1, 1)


@pytest.mark.parametrize(
    "close",
    [
        pytest.param(lambda r: {"expires_at": timezone.now() - timedelta(minutes=1)}, id="expired"),
        pytest.param(lambda r: {"status": RequestStatus.EXPIRED}, id="marked-expired"),
        pytest.param(lambda r: {"status": RequestStatus.DECLINED}, id="declined"),
        # Its message never reached the customer: asking again (a corrected address) is fine.
        pytest.param(lambda r: {"status": RequestStatus.FAILED}, id="failed"),
    ],
)
def test_a_closed_request_does_not_block_a_new_one(in_a, customer_a, close):
    with in_a():
        first, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        ConsentRequest.objects.filter(pk=first.pk).update(**close(first))
        second, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
    assert second.pk != first.pk
    assert counts(in_a, customer_a) == (2, 2)


def test_an_answered_request_does_not_block_a_new_one(in_a, customer_a):
    with in_a():
        first, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        consent_record(
            customer=customer_a, decision="granted", method="link", request=first, actor=SYSTEM
        )
        second, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
    assert second.pk != first.pk


def test_another_customers_open_request_does_not_block(in_a, customer_a):
    with in_a():
        consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        spouse = make_customer(name="Per Lind", email="per@example.test", language="sv")
        consent_request_create(customer=spouse, channel="email", actor=SYSTEM)
    assert counts(in_a, spouse) == (1, 1)


# ---------------------------------------------------------------------------
# The API


def test_the_api_answers_409_with_the_open_request_and_sends_nothing(personas, in_a, customer_a):
    api = personas.api(personas.key_a)
    first = send(api, requests_url(customer_a), {"channel": "email"})
    assert first.status_code == 202
    again = send(api, requests_url(customer_a), {"channel": "email"})
    assert again.status_code == 409
    assert again["Content-Type"] == PROBLEM
    body = again.json()
    assert body["type"].endswith("/problems/consent-request-open")
    assert body["status"] == 409 and body["title"] and body["detail"]
    assert body["request_id"] == first.json()["id"]
    assert body["request"]["id"] == first.json()["id"]
    assert body["request"]["status"] == "queued"
    assert body["request"]["destination_masked"] == first.json()["destination_masked"]
    assert "asa@example.test" not in again.content.decode()  # masked, as everywhere
    assert counts(in_a, customer_a) == (1, 1)
    # The id it names is readable like any request (with an ETag, as single objects have).
    detail = api.get(f"/api/v1/consent-requests/{body['request_id']}/")
    assert detail.status_code == 200
    not_modified = api.get(detail.request["PATH_INFO"], HTTP_IF_NONE_MATCH=detail["ETag"])
    assert not_modified.status_code == 304


def test_an_idempotent_replay_still_answers_the_first_202(personas, in_a, customer_a):
    api = personas.api(personas.key_a)
    first = send(api, requests_url(customer_a), {"channel": "email"}, HTTP_IDEMPOTENCY_KEY="k")
    again = send(api, requests_url(customer_a), {"channel": "email"}, HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == again.status_code == 202
    assert again.content == first.content
    other_key = send(api, requests_url(customer_a), {"channel": "email"}, HTTP_IDEMPOTENCY_KEY="j")
    assert other_key.status_code == 409
    assert counts(in_a, customer_a) == (1, 1)


def test_the_409_is_for_the_tenants_own_customers_only(personas, in_a, customer_a):
    send(personas.api(personas.key_a), requests_url(customer_a), {"channel": "email"})
    stranger = send(personas.api(personas.key_b), requests_url(customer_a), {"channel": "email"})
    assert stranger.status_code == 404
    assert "request_id" not in stranger.json()


def test_the_schema_documents_the_409(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/customers/{customer_id}/consent-requests/"]["post"]
    conflict = operation["responses"]["409"]
    assert "consent-request-open" in conflict["description"]
    assert PROBLEM in conflict["content"]


# ---------------------------------------------------------------------------
# The customer card (the UI goes through the same service)


def test_the_card_refuses_a_second_request_with_a_message(personas, in_a, customer_a):
    client = personas.client(personas.bob)
    url = f"/consent/customers/{customer_a.pk}/request/"
    form = {"consent-request-channel": "email", "consent-request-language": "sv"}
    assert client.post(url, form).status_code == 302
    again = client.post(url, form)
    assert again.status_code == 200
    assert "already asked" in again.content.decode()
    assert counts(in_a, customer_a) == (1, 1)


# ---------------------------------------------------------------------------
# Batches and renewals


def test_a_batch_skips_customers_with_an_open_request(in_a, customer_a):
    with in_a():
        open_request, _token = consent_request_create(
            customer=customer_a, channel="email", actor=SYSTEM
        )
        other = make_customer(name="Bo Berg", email="bo@example.test", language="sv")
        batch = consent_batch_start(
            customer_ids=[customer_a.pk, other.pk], channel="email", source="search", actor=SYSTEM
        )
        consent_batch_chunk(batch_id=batch.pk)
        batch.refresh_from_db()
        items = {i.customer_id: i for i in ConsentBatchItem.objects.filter(batch=batch)}
    assert (batch.sent, batch.skipped, batch.failed) == (1, 1, 0)
    skipped = items[customer_a.pk]
    assert (skipped.outcome, skipped.error) == (BatchOutcome.SKIPPED, "open_request")
    assert skipped.request_id is None  # the waiting request is not the batch's
    assert str(error_label("open_request")) == "Already asked, no answer yet"
    assert items[other.pk].outcome == BatchOutcome.SENT
    assert counts(in_a, customer_a) == (1, 1)
    with in_a():
        assert ConsentRequest.objects.get(customer=customer_a).pk == open_request.pk


def test_a_renewal_due_while_a_request_is_open_sends_nothing_more(in_a, customer_a):
    with in_a():
        consent_settings_update(
            request_valid_days=30, consent_valid_months=12, renewal_notice_days=30, actor=SYSTEM
        )
        consent_record(
            customer=customer_a,
            decision="granted",
            method="manual",
            how="paper",
            terms_version=1,
            language="sv",
            actor=SYSTEM,
        )
        asked, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        from consent.models import ConsentState

        ConsentState.objects.filter(customer=customer_a).update(
            valid_until=timezone.now() + timedelta(days=10)
        )
        lifecycle_chunk()
        renewal = AuditEvent.objects.get(action="consent.renewal_requested")
        assert ConsentState.objects.get(customer=customer_a).renewal_requested_at is not None
    assert renewal.data["request_id"] == asked.pk
    assert counts(in_a, customer_a) == (1, 1)


# ---------------------------------------------------------------------------
# The race: concurrent requests for one customer, real transactions


def test_eight_concurrent_requests_make_one_request_and_one_message(live_personas):
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        consent_terms_publish(language="sv", text=SV_TEXT, actor=SYSTEM)
        customer = make_customer(name="Åsa Lind", email="asa@example.test", language="sv")
    url = requests_url(customer)
    # The key's first use records it (a row lock until commit) and would serialise the
    # eight on its own: used once before, they race for real.
    warm = Client(HTTP_AUTHORIZATION=f"Api-Key {live_personas.key_a}").get("/api/v1/me/")
    assert warm.status_code == 200
    statuses: list[int] = []
    bodies: list[dict] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker():
        try:
            client = Client(HTTP_AUTHORIZATION=f"Api-Key {live_personas.key_a}")
            barrier.wait()
            response = send(client, url, {"channel": "email"})
            statuses.append(response.status_code)
            bodies.append(response.json())
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert sorted(statuses) == [202] + [409] * 7, bodies
    with tenant_context(tenant):
        [request] = ConsentRequest.objects.filter(customer=customer)
        assert OutboundMessage.objects.count() == 1
        assert OutboundMessage.objects.get().reference == f"consent_request:{request.pk}"
    assert {b["request_id"] for b in bodies if "request_id" in b} == {request.pk}
