"""Consent requests to many customers at once (consent/batches.py, consent/views_batches.py)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from audit.actors import Actor
from audit.models import AuditEvent
from consent import batches
from consent.batches import (
    consent_batch_chunk,
    consent_batch_start,
    consent_batch_try_finish,
    consent_batches_resume,
)
from consent.models import BatchOutcome, BatchStatus, ConsentBatch, ConsentBatchItem, ConsentRequest
from consent.services import consent_terms_publish
from customers.models import Customer, CustomerStatus
from customers.services.addresses import address_add
from customers.services.selections import selection_add
from notifications.models import OutboundMessage
from notifications.sending import message_send
from tenancy.context import tenant_context
from tests.factories import make_customer

from .conftest import SV_TEXT

SYSTEM = Actor.system("test")


@pytest.fixture
def mixed(in_a, terms_a):
    """Tenant A: one customer with email, one with mobile only, one with neither."""
    with in_a():
        email = make_customer(name="Anna Epost", email="anna@example.test", language="sv")
        mobile = make_customer(name="Bo Mobil", mobile="+46701111111", language="sv")
        neither = make_customer(name="Cilla Brev", language="sv")
        address_add(customer=neither, actor=SYSTEM, line1="Storgatan 1", city="Luleå")
    return {"email": email, "mobile": mobile, "neither": neither}


def _ids(customers):
    return [c.pk for c in customers.values()]


def _items(batch):
    return {
        item.customer_id: item
        for item in ConsentBatchItem.objects.filter(batch=batch).select_related("request")
    }


# --- The service ------------------------------------------------------------------------------


def test_batch_asks_email_and_sms_and_skips_the_unreachable(in_a, mixed, personas):
    with in_a():
        batch = consent_batch_start(
            customer_ids=_ids(mixed), channel="any", source="search", actor=SYSTEM
        )
        assert (batch.total, batch.status) == (3, BatchStatus.PENDING)
        assert consent_batch_chunk(batch_id=batch.pk) is False
        batch.refresh_from_db()
        items = _items(batch)
        requests = list(ConsentRequest.objects.filter(batch=batch))
        events = list(AuditEvent.objects.filter(object_type="consent.batch").order_by("seq"))
    assert (batch.sent, batch.skipped, batch.failed) == (2, 1, 0)
    # Every customer is asked, but the two messages are still queued: not done yet.
    assert batch.status == BatchStatus.RUNNING and batch.finished_at is None
    with in_a():
        for message in OutboundMessage.objects.all():
            message_send(message_id=message.pk)
        assert consent_batches_resume(stalled_after=timedelta(minutes=5))["finished"] == 1
        batch.refresh_from_db()
        events = list(AuditEvent.objects.filter(object_type="consent.batch").order_by("seq"))
    assert batch.status == BatchStatus.DONE and batch.finished_at is not None
    assert items[mixed["email"].pk].request.channel == "email"
    assert items[mixed["mobile"].pk].request.channel == "sms"
    assert items[mixed["neither"].pk].outcome == BatchOutcome.SKIPPED
    assert items[mixed["neither"].pk].error == "no_address"
    assert {r.customer_id for r in requests} == {mixed["email"].pk, mixed["mobile"].pk}
    # One audit entry at the start and one at the end, with counts and codes only.
    assert [e.action for e in events] == ["consent.batch_started", "consent.batch_finished"]
    assert events[0].data == {"source": "search", "channel": "any", "total": 3}
    assert events[1].data == {"total": 3, "sent": 2, "skipped": 1, "failed": 0}


def test_each_request_is_audited_like_a_single_one(in_a, mixed):
    with in_a():
        batch = consent_batch_start(
            customer_ids=_ids(mixed), channel="email", source="search", actor=SYSTEM
        )
        consent_batch_chunk(batch_id=batch.pk)
        request = ConsentRequest.objects.get(batch=batch)
        event = AuditEvent.objects.get(action="consent.requested", object_id=str(request.pk))
        batch.refresh_from_db()
    assert event.data["customer_id"] == mixed["email"].pk
    # Email only: the mobile-only customer is skipped as well.
    assert (batch.sent, batch.skipped, batch.failed) == (1, 2, 0)


@pytest.mark.no_sms
def test_sms_without_subscription_fails_with_a_code(in_a, mixed):
    with in_a():
        batch = consent_batch_start(
            customer_ids=_ids(mixed), channel="sms", source="selection", actor=SYSTEM
        )
        consent_batch_chunk(batch_id=batch.pk)
        batch.refresh_from_db()
        items = _items(batch)
        assert not ConsentRequest.objects.filter(batch=batch).exists()
        assert not OutboundMessage.objects.exists()
    assert items[mixed["mobile"].pk].outcome == BatchOutcome.FAILED
    assert items[mixed["mobile"].pk].error == "sms_not_enabled"
    assert items[mixed["email"].pk].error == "no_mobile"
    assert (batch.sent, batch.skipped, batch.failed) == (0, 2, 1)


def test_no_terms_in_the_customers_language_fails(in_a, terms_a):
    with in_a():
        dane = make_customer(name="Dorte Dansk", email="dorte@example.test", language="da")
        batch = consent_batch_start(
            customer_ids=[dane.pk], channel="email", source="search", actor=SYSTEM
        )
        consent_batch_chunk(batch_id=batch.pk)
        item = ConsentBatchItem.objects.get(batch=batch)
    assert (item.outcome, item.error) == (BatchOutcome.FAILED, "no_terms")
    assert batches.error_label("no_terms")


def test_a_chunk_run_twice_asks_each_customer_once(in_a, terms_a):
    with in_a():
        customers = [
            make_customer(name=f"Kund {n}", email=f"k{n}@example.test", language="sv")
            for n in range(5)
        ]
        batch = consent_batch_start(
            customer_ids=[c.pk for c in customers], channel="email", source="search", actor=SYSTEM
        )
        assert consent_batch_chunk(batch_id=batch.pk, limit=2) is True
        assert consent_batch_chunk(batch_id=batch.pk, limit=2) is True
        assert consent_batch_chunk(batch_id=batch.pk, limit=2) is False
        # A redelivered or duplicated task after the end: nothing is asked again.
        assert consent_batch_chunk(batch_id=batch.pk, limit=2) is False
        assert consent_batch_chunk(batch_id=batch.pk) is False
        for message in OutboundMessage.objects.all():
            message_send(message_id=message.pk)
        assert consent_batch_try_finish(batch_id=batch.pk) is True
        assert consent_batch_try_finish(batch_id=batch.pk) is True  # audited once
        batch.refresh_from_db()
        per_customer = {
            c.pk: ConsentRequest.objects.filter(customer=c, batch=batch).count() for c in customers
        }
        finished = AuditEvent.objects.filter(action="consent.batch_finished").count()
    assert set(per_customer.values()) == {1}
    assert (batch.sent, batch.skipped, batch.failed, batch.total) == (5, 0, 0, 5)
    assert finished == 1


def test_an_item_already_handled_is_never_asked_again(in_a, mixed):
    with in_a():
        batch = consent_batch_start(
            customer_ids=_ids(mixed), channel="any", source="search", actor=SYSTEM
        )
        # As if a worker had handled the email customer and died before the rest.
        ConsentBatchItem.objects.filter(batch=batch, customer=mixed["email"]).update(
            outcome=BatchOutcome.SENT
        )
        consent_batch_chunk(batch_id=batch.pk)
        assert not ConsentRequest.objects.filter(customer=mixed["email"]).exists()
        assert ConsentRequest.objects.filter(customer=mixed["mobile"]).count() == 1


def test_other_tenants_and_anonymized_customers_are_left_out(in_a, in_b, mixed, customer_b):
    with in_a():
        Customer.objects.filter(pk=mixed["neither"].pk).update(status=CustomerStatus.ANONYMIZED)
        batch = consent_batch_start(
            customer_ids=(pk for pk in [*_ids(mixed), customer_b.pk, customer_b.pk]),
            channel="any",
            source="search",
            actor=SYSTEM,
        )
        assert set(
            ConsentBatchItem.objects.filter(batch=batch).values_list("customer_id", flat=True)
        ) == {
            mixed["email"].pk,
            mixed["mobile"].pk,
        }
    assert batch.total == 2
    with in_b():
        assert not ConsentBatch.objects.exists()
        assert not ConsentBatchItem.objects.exists()


def test_a_queryset_is_inserted_by_the_database(in_a, mixed):
    with in_a():
        batch = consent_batch_start(
            customer_ids=Customer.objects.filter(name__startswith="Anna").prefetch_related(
                "addresses"
            ),
            channel="email",
            source="search",
            actor=SYSTEM,
        )
        assert list(
            ConsentBatchItem.objects.filter(batch=batch).values_list("customer_id", flat=True)
        ) == [mixed["email"].pk]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"customer_ids": []}, "customers"),
        ({"customer_ids": ["x"]}, "customers"),
        ({"customer_ids": [2**70, -1]}, "customers"),
        ({"source": "nowhere"}, "source"),
    ],
)
def test_bad_input_creates_nothing(in_a, mixed, kwargs, field):
    args = {"customer_ids": _ids(mixed), "channel": "email", "source": "search", **kwargs}
    with in_a():
        with pytest.raises(ValidationError) as caught:
            consent_batch_start(actor=SYSTEM, **args)
        assert field in caught.value.message_dict
        assert not ConsentBatch.objects.exists()
        assert not AuditEvent.objects.filter(object_type="consent.batch").exists()


def test_a_large_batch_in_chunks_costs(in_a, terms_a, django_assert_max_num_queries):
    """The start is a constant number of queries, whatever the number of customers."""
    with in_a():
        tenant = terms_a["sv"].tenant
        Customer.objects.bulk_create(
            Customer(tenant=tenant, number=f"B{n}", name=f"Bulk {n}", email=f"b{n}@example.test")
            for n in range(300)
        )
        with django_assert_max_num_queries(12):
            batch = consent_batch_start(
                customer_ids=Customer.objects.all(), channel="email", source="search", actor=SYSTEM
            )
        assert batch.total == 300


# --- The worker ------------------------------------------------------------------------------


def test_real_worker_runs_the_batch_in_chunks(live_personas, celery_worker, monkeypatch):
    from tests.notifications.conftest import wait_for

    monkeypatch.setattr(batches, "CHUNK_SIZE", 3)
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        consent_terms_publish(language="sv", text=SV_TEXT, actor=SYSTEM)
        ids = [
            make_customer(name=f"Kund {n}", email=f"k{n}@example.test", language="sv").pk
            for n in range(7)
        ]
        ids.append(make_customer(name="Utan adress", language="sv").pk)
    with tenant_context(tenant):  # commits on exit: the task is sent then
        batch = consent_batch_start(
            customer_ids=ids, channel="email", source="search", actor=SYSTEM
        )

    def done():
        with tenant_context(tenant):
            return ConsentBatch.objects.get(pk=batch.pk).status == BatchStatus.DONE

    assert wait_for(done, timeout=30)
    with tenant_context(tenant):
        batch.refresh_from_db()
        assert (batch.sent, batch.skipped, batch.failed) == (7, 1, 0)
        assert ConsentRequest.objects.filter(batch=batch).count() == 7
        assert OutboundMessage.objects.filter(reference__startswith="consent_request:").count() == 7


# --- The pages --------------------------------------------------------------------------------


def test_confirmation_page_counts_the_lists_customers(personas, mixed):
    response = personas.client(personas.bob).get("/consent/batches/new/?source=search&q=")
    assert response.status_code == 200
    reach = response.context["reach"]
    assert (reach.total, reach.email, reach.mobile_only, reach.neither) == (3, 1, 1, 1)
    assert b"<form" in response.content


def test_confirmation_page_warns_before_sms_that_would_fail(personas, mixed):
    from notifications.services import notification_settings_update

    url = "/consent/batches/new/?source=search&q="
    client = personas.client(personas.bob)
    with tenant_context(personas.tenant_a):
        notification_settings_update(sms_enabled=False)
    assert b'id="sms-off"' in client.get(url).content
    with tenant_context(personas.tenant_a):
        notification_settings_update(sms_enabled=True)
    assert b'id="sms-off"' not in client.get(url).content


def test_confirmation_page_follows_the_lists_search(personas, mixed):
    response = personas.client(personas.bob).get("/consent/batches/new/?source=search&q=Anna")
    assert response.context["reach"].total == 1


def test_start_from_the_list_takes_the_lists_customers_only(
    personas, in_a, in_b, mixed, customer_b
):
    client = personas.client(personas.bob)
    response = client.post(
        "/consent/batches/new/",
        {"source": "search", "q": "Bo Mobil", "channel": "sms", "customer": [customer_b.pk]},
    )
    assert response.status_code == 302
    with in_a():
        batch = ConsentBatch.objects.get()
        assert response["Location"] == f"/t/nordljus/consent/batches/{batch.pk}/"
        assert list(ConsentBatchItem.objects.values_list("customer_id", flat=True)) == [
            mixed["mobile"].pk
        ]
    assert (batch.source, batch.channel, batch.total) == ("search", "sms", 1)
    with in_b():
        assert not ConsentBatch.objects.exists()


def test_start_from_the_own_selection(personas, in_a, mixed):
    with in_a():
        selection_add(user=personas.bob, customers=[mixed["email"], mixed["neither"]])
    client = personas.client(personas.bob)
    page = client.get("/customers/selection/")
    assert b"/consent/batches/new/?source=selection" in page.content
    response = client.post("/consent/batches/new/", {"source": "selection", "channel": "email"})
    assert response.status_code == 302
    with in_a():
        batch = ConsentBatch.objects.get()
    assert (batch.source, batch.total) == ("selection", 2)


def test_list_shows_the_buttons_to_those_who_may(personas, mixed):
    page = personas.client(personas.bob).get("/customers/?q=Anna")
    assert b"/consent/batches/new/?q=Anna&amp;source=search" in page.content
    assert b'action="/t/nordljus/consent/refresh/"' in page.content


@pytest.mark.parametrize("channel", ["fax", ""])
def test_bad_channel_is_a_field_error(personas, in_a, mixed, channel):
    response = personas.client(personas.bob).post(
        "/consent/batches/new/", {"source": "search", "channel": channel}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["channel"]
    with in_a():
        assert not ConsentBatch.objects.exists()


def test_empty_selection_says_so_and_creates_nothing(personas, in_a, mixed):
    client = personas.client(personas.bob)
    page = client.get("/consent/batches/new/?source=selection")
    assert page.status_code == 200
    assert page.context["reach"].total == 0
    response = client.post("/consent/batches/new/", {"source": "selection", "channel": "email"})
    assert response.status_code == 200
    assert "There are no customers to ask." in response.content.decode()
    with in_a():
        assert not ConsentBatch.objects.exists()


def test_bad_list_filters_are_shown_not_500(personas, in_a, mixed):
    client = personas.client(personas.bob)
    page = client.get("/consent/batches/new/?source=search&last_activity_before=not-a-date")
    assert page.status_code == 200
    assert page.context["reach"] is None
    response = client.post(
        "/consent/batches/new/",
        {"source": "search", "channel": "email", "consent": "bogus"},
    )
    assert response.status_code == 200
    with in_a():
        assert not ConsentBatch.objects.exists()


def _started(in_a, mixed, channel="any"):
    with in_a():
        batch = consent_batch_start(
            customer_ids=_ids(mixed), channel=channel, source="search", actor=SYSTEM
        )
    return batch


def test_progress_page_polls_while_running_and_works_without_js(personas, in_a, mixed):
    batch = _started(in_a, mixed)
    client = personas.client(personas.bob)
    page = client.get(f"/consent/batches/{batch.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<progress id="batch-bar' in html and 'value="0"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "style=" not in html and "<script>" not in html

    with in_a():
        consent_batch_chunk(batch_id=batch.pk)
    partial = client.get(f"/consent/batches/{batch.pk}/", HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    # Every customer asked, but the two messages have not gone out: still polling.
    assert "2 messages are still being sent" in html and "hx-trigger" in html
    with in_a():
        for message in OutboundMessage.objects.all():
            message_send(message_id=message.pk)
        consent_batch_try_finish(batch_id=batch.pk)
    partial = client.get(f"/consent/batches/{batch.pk}/", HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html and 'value="3"' in html
    assert "hx-trigger" not in html  # done: the polling stops
    assert f"/consent/batches/{batch.pk}/unreachable/" in html
    assert partial.context["batch"].sent == 2

    listing = client.get("/consent/batches/")
    assert f"/consent/batches/{batch.pk}/".encode() in listing.content


def test_unreachable_list_print_and_csv(personas, in_a, mixed):
    with in_a():
        Customer.objects.filter(pk=mixed["neither"].pk).update(name="=HYPERLINK(1)")
    batch = _started(in_a, mixed, channel="email")
    with in_a():
        consent_batch_chunk(batch_id=batch.pk)
    client = personas.client(personas.bob)
    page = client.get(f"/consent/batches/{batch.pk}/unreachable/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Storgatan 1" in html and "No email address" in html and "Bo Mobil" in html
    assert "Anna Epost" not in html

    printed = client.get(f"/consent/batches/{batch.pk}/unreachable/?print=1").content.decode()
    assert "Storgatan 1" in printed and "Luleå" in printed and "<table" in printed

    export = client.get(f"/consent/batches/{batch.pk}/unreachable/export/csv/")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.getvalue().decode("utf-8-sig"))))
    assert rows[0][-1] == "Reason"
    names = {row[1]: row[-1] for row in rows[1:]}
    assert names == {"'=HYPERLINK(1)": "No email address", "Bo Mobil": "No email address"}
    assert client.get(f"/consent/batches/{batch.pk}/unreachable/export/xlsx/").status_code == 404
    with in_a():
        assert AuditEvent.objects.filter(action="consent.batch_unreachable_exported").count() == 1


def test_another_tenants_batch_does_not_exist(personas, in_a, mixed):
    batch = _started(in_a, mixed)
    charlie = personas.client(personas.charlie)
    for url in (
        f"/consent/batches/{batch.pk}/",
        f"/consent/batches/{batch.pk}/unreachable/",
        f"/consent/batches/{batch.pk}/unreachable/?print=1",
        f"/consent/batches/{batch.pk}/unreachable/export/csv/",
    ):
        assert charlie.get(url).status_code == 404, url
    assert f"/consent/batches/{batch.pk}/" not in charlie.get("/consent/batches/").content.decode()
    assert personas.client(personas.erik).get(f"/consent/batches/{batch.pk}/").status_code == 403


def test_update_consent_button_refreshes_and_goes_back(personas, in_a, mixed):
    response = personas.client(personas.bob).post(
        "/consent/refresh/", {"next": "/customers/?q=Anna"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/?q=Anna"
    with in_a():
        assert AuditEvent.objects.filter(action="consent.refreshed").count() == 1
    other = personas.client(personas.bob).post("/consent/refresh/", {"next": "https://evil.test/"})
    assert other["Location"] == "/t/nordljus/customers/"
    assert personas.client(personas.bob).get("/consent/refresh/").status_code == 405


def test_a_done_batch_points_at_messages_that_wait_for_a_person(personas, in_a, mixed):
    batch = _started(in_a, mixed)
    with in_a():
        consent_batch_chunk(batch_id=batch.pk)
        first, *rest = OutboundMessage.objects.order_by("pk")
        OutboundMessage.objects.filter(pk=first.pk).update(status="uncertain")
        for message in rest:
            message_send(message_id=message.pk)
        assert consent_batch_try_finish(batch_id=batch.pk) is True
    html = personas.client(personas.bob).get(f"/consent/batches/{batch.pk}/").content.decode()
    assert "1 message may not have gone out" in html
    assert "/messages/uncertain/" in html
