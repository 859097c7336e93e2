"""Delivery to a real HTTP receiver on loopback (issue 12 item 4, "done means"): the
signature verifies, a failing receiver is retried and then switched off, a replay arrives
once. The worker is a real Celery worker thread (tests/conftest.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.test import override_settings

from audit.actors import Actor
from audit.models import AuditEvent
from tenancy.context import tenant_context, tenant_scope
from tests.factories import TenantFactory, make_customer
from webhooks import services
from webhooks.delivery import deliveries_sweep, delivery_attempt
from webhooks.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from webhooks.signing import verify

ADMIN = Actor.system("tests")


def _verify_as_documented(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver's check exactly as docs/api.md shows it (independent of our module)."""
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    if abs(time.time() - int(timestamp)) > 300:
        return False
    return any(
        hmac.compare_digest(expected, sig.split(",", 1)[1])
        for sig in headers["webhook-signature"].split()
        if sig.startswith("v1,")
    )


def _wait(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _endpoint(tenant, url, types=("customer.created",)):
    with tenant_context(tenant):
        return services.endpoint_create(url=url, event_types=list(types), actor=ADMIN)


def _deliveries(tenant, **filters):
    with tenant_context(tenant):
        return list(WebhookDelivery.objects.filter(**filters).order_by("id"))


def test_a_signed_event_reaches_the_receiver(celery_worker, receiver, loopback_allowed):
    tenant = TenantFactory(slug="nordljus")
    _endpoint_row, secret = _endpoint(tenant, receiver.url)
    assert secret.startswith("whsec_")
    with tenant_context(tenant):
        customer = make_customer(name="Signerad AB")

    (got,) = receiver.wait_for(1)
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert headers["content-type"] == "application/json"
    assert _verify_as_documented(secret, headers, got.body)
    assert verify(secret=secret, headers=headers, body=got.body)
    # A changed body or another secret does not verify.
    assert not _verify_as_documented(secret, headers, got.body + b" ")
    assert not verify(
        secret="whsec_" + base64.b64encode(b"x" * 24).decode(), headers=headers, body=got.body
    )

    payload = json.loads(got.body)
    with tenant_context(tenant):
        event = Event.objects.get(type="customer.created")
    assert payload["id"] == event.pk and headers["webhook-id"] == f"evt_{event.pk}"
    assert payload["type"] == "customer.created"
    assert payload["tenant"] == "nordljus"
    assert payload["data"] == {"customer_id": customer.pk}
    assert _wait(lambda: _deliveries(tenant)[0].status == DeliveryStatus.SUCCEEDED)
    (delivery,) = _deliveries(tenant)
    assert delivery.response_code == 200 and delivery.attempts == 1
    assert delivery.response_ms is not None


def test_a_failing_receiver_is_retried_and_then_switched_off(
    celery_worker, receiver, loopback_allowed
):
    receiver.status = 500
    tenant = TenantFactory()
    endpoint, _secret = _endpoint(tenant, receiver.url)
    with tenant_context(tenant):
        make_customer(name="Misslyckad AB")

    def switched_off():
        with tenant_context(tenant):
            return not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active

    assert _wait(switched_off)
    time.sleep(0.5)  # nothing more arrives once it is off
    assert len(receiver.requests) == 3  # WEBHOOKS_DISABLE_AFTER
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one event, retried
    (delivery,) = _deliveries(tenant)
    assert delivery.status == DeliveryStatus.GAVE_UP
    assert delivery.attempts == 3 and delivery.response_code == 500
    assert delivery.error == "HTTP 500"
    with tenant_context(tenant):
        endpoint.refresh_from_db()
        assert endpoint.consecutive_failures == 3
        assert "3" in endpoint.disabled_reason
        assert AuditEvent.objects.filter(action="webhook.disabled", object_id=endpoint.pk).exists()
        # New events are not queued to a switched-off endpoint.
        make_customer(name="Efter AB")
        assert WebhookDelivery.objects.count() == 1
        # The admin switches it back on; the count starts again.
        services.endpoint_set_active(endpoint=endpoint, active=True, actor=ADMIN)
        endpoint.refresh_from_db()
        assert endpoint.is_active and endpoint.consecutive_failures == 0
        assert endpoint.disabled_reason == ""


def test_a_replay_is_delivered_once(celery_worker, receiver, loopback_allowed):
    tenant = TenantFactory()
    _endpoint(tenant, receiver.url)
    with tenant_context(tenant):
        make_customer(name="Igen AB")
    receiver.wait_for(1)
    assert _wait(lambda: _deliveries(tenant)[0].status == DeliveryStatus.SUCCEEDED)
    (first,) = _deliveries(tenant)

    with tenant_context(tenant):
        replay = services.delivery_replay(delivery=first, actor=ADMIN)
    receiver.wait_for(2)
    assert _wait(lambda: _deliveries(tenant, pk=replay.pk)[0].status == "succeeded")
    # The sweep finds nothing due: no second copy of the replay.
    with tenant_scope(tenant):
        assert deliveries_sweep() == 0
    time.sleep(0.5)
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    (again,) = _deliveries(tenant, pk=replay.pk)
    assert again.replay_of == first.pk and again.attempts == 1 and again.response_code == 200


@override_settings(
    WEBHOOKS_ALLOW_PRIVATE_TARGETS=True, WEBHOOKS_RETRY_DELAYS=[0, 0], WEBHOOKS_DISABLE_AFTER=99
)
def test_retries_follow_the_schedule_and_then_give_up(personas, receiver):
    """Attempt by attempt, without a worker: each failure schedules the next delay."""
    receiver.status = 503
    with tenant_context(personas.tenant_a):
        services.endpoint_create(url=receiver.url, event_types=["customer.created"], actor=ADMIN)
        make_customer(name="Schema AB")
        delivery = WebhookDelivery.objects.get()
        statuses = []
        for _attempt in range(4):
            delivery_attempt(delivery_id=delivery.pk)
            delivery.refresh_from_db()
            statuses.append((delivery.status, delivery.attempts))
    assert statuses == [
        ("failed", 1),
        ("failed", 2),
        ("gave_up", 3),
        ("gave_up", 3),  # nothing more is tried
    ]
    assert len(receiver.requests) == 3


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
def test_a_delivery_not_yet_due_or_claimed_is_not_sent_twice(personas, receiver):
    with tenant_context(personas.tenant_a):
        services.endpoint_create(url=receiver.url, event_types=["customer.created"], actor=ADMIN)
        make_customer(name="En gång AB")
        delivery = WebhookDelivery.objects.get()
        assert delivery_attempt(delivery_id=delivery.pk).ok
        assert delivery_attempt(delivery_id=delivery.pk) is None
        assert deliveries_sweep() == 0
    assert len(receiver.requests) == 1


def test_a_target_that_became_private_is_refused_at_send_time(personas, receiver):
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True), tenant_context(personas.tenant_a):
        services.endpoint_create(url=receiver.url, event_types=["customer.created"], actor=ADMIN)
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False), tenant_context(personas.tenant_a):
        make_customer(name="Privat AB")
        delivery = WebhookDelivery.objects.get()
        outcome = delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
    assert not outcome.ok and outcome.error.startswith("refused")
    assert delivery.status == DeliveryStatus.FAILED and delivery.response_code is None
    assert receiver.requests == []
