"""Events come from the real services, through the audit log, in the same transaction:
an event exists exactly when the change committed, and holds no personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from anonymization.engine import anonymize_customers
from anonymization.runs import anonymization_run_chunk, anonymization_run_start
from audit.actors import Actor
from consent.models import ConsentRequest
from consent.services import (
    consent_record,
    consent_request_create,
    consent_request_expire,
    consent_terms_publish,
)
from customers.models import Customer
from customers.services.customers import customer_update
from tenancy.context import tenant_context
from tests.factories import make_customer
from webhooks.models import Event, WebhookDelivery
from webhooks.services import endpoint_create

SYSTEM = Actor.system("tests")
MARKER = "Zqxmarker"


def _events(**filters) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in Event.objects.filter(**filters).order_by("id")]


def test_customer_created_and_updated(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Händelse AB")
        customer_update(
            customer=customer, actor=SYSTEM, name="Händelse Två AB", email="ny@example.test"
        )
        customer_update(customer=customer, actor=SYSTEM, name="Händelse Två AB")  # no change
        assert _events() == [
            ("customer.created", {"customer_id": customer.pk}),
            ("customer.updated", {"customer_id": customer.pk, "fields": ["name", "email"]}),
        ]
        event = Event.objects.get(type="customer.updated")
        assert event.object_type == "customer" and event.object_id == str(customer.pk)


@pytest.mark.parametrize("decision", ["granted", "declined", "withdrawn"])
def test_consent_decisions(personas, decision):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Samtycke AB")
        terms = consent_terms_publish(language="sv", text="Vi sparar.", actor=SYSTEM)
        proof = consent_record(
            customer=customer,
            decision=decision,
            method="manual",
            actor=SYSTEM,
            language="sv",
            terms_version=terms.version,
        )
        ((kind, data),) = _events(type__startswith="consent.")
    assert kind == f"consent.{decision}"
    assert data == {
        "customer_id": customer.pk,
        "decision_id": proof.pk,
        "method": "manual",
        "terms_version": terms.version,
        "request_id": None,
    }


def test_an_expired_request_is_consent_expired(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Utgången AB", email="ut@example.test")
        consent_terms_publish(language="sv", text="Vi sparar.", actor=SYSTEM)
        request, _token = consent_request_create(
            customer=customer, channel="email", language="sv", actor=SYSTEM
        )
        ConsentRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
        request.refresh_from_db()
        assert consent_request_expire(request=request, actor=SYSTEM)
        assert _events(type="consent.expired") == [
            (
                "consent.expired",
                {"customer_id": customer.pk, "reason": "request_expired", "request_id": request.pk},
            )
        ]


def _old_customer(name: str) -> Customer:
    customer = make_customer(name=name)
    Customer.objects.filter(pk=customer.pk).update(created_at=datetime(2010, 1, 1, tzinfo=UTC))
    return customer


def test_anonymization_and_a_finished_run(personas):
    with tenant_context(personas.tenant_a):
        alone = _old_customer("Ensam AB")
        anonymize_customers([alone.pk], actor=SYSTEM)
        in_run = _old_customer("Körning AB")
        run = anonymization_run_start(
            customer_ids=[in_run.pk], actor=SYSTEM, source="command", note="Gallring"
        )
        for _chunk in range(3):  # the last chunk call finds nothing waiting and finishes
            anonymization_run_chunk(run_id=run.pk)
        assert _events(type__in=["customer.anonymized", "anonymization_run.finished"]) == [
            ("customer.anonymized", {"customer_id": alone.pk, "run_id": None}),
            ("customer.anonymized", {"customer_id": in_run.pk, "run_id": run.pk}),
            (
                "anonymization_run.finished",
                {"run_id": run.pk, "total": 1, "anonymized": 1, "skipped": 0},
            ),
        ]


def test_nothing_when_the_change_rolls_back(personas):
    with tenant_context(personas.tenant_a):
        endpoint_create(
            url="https://93.184.215.14/hook", event_types=["customer.created"], actor=SYSTEM
        )
        with pytest.raises(RuntimeError), transaction.atomic():
            make_customer(name="Ångrad AB")
            assert Event.objects.count() == 1  # inside: there
            raise RuntimeError("rolled back")
        assert Event.objects.count() == 0
        assert WebhookDelivery.objects.count() == 0


def test_events_hold_no_personal_data(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(
            name=f"{MARKER} AB", email=f"{MARKER.lower()}@example.test", phone="+46701234567"
        )
        customer_update(customer=customer, actor=SYSTEM, name=f"{MARKER} Två AB")
        terms = consent_terms_publish(language="sv", text="Vi sparar.", actor=SYSTEM)
        consent_record(
            customer=customer,
            decision="granted",
            method="pos",
            actor=SYSTEM,
            language="sv",
            terms_version=terms.version,
            context={"store": f"{MARKER} butik", "terminal": "T1", "staff": MARKER},
            ip="192.0.2.1",
        )
        dump = json.dumps([e.payload() for e in Event.objects.all()], default=str)
    assert len(json.loads(dump)) == 3
    for needle in (MARKER, MARKER.lower(), "46701234567", "192.0.2.1", "T1"):
        assert needle not in dump


def test_events_are_the_tenants_own(personas):
    with tenant_context(personas.tenant_a):
        make_customer(name="A AB")
    with tenant_context(personas.tenant_b):
        assert Event.objects.count() == 0
        make_customer(name="B AS")
        assert Event.objects.count() == 1
