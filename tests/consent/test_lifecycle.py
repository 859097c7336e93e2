"""The consent lifecycle: requests expire, one reminder, consent validity, renewal and lapse.

Time is "frozen" by writing past timestamps into the rows (created_at, expires_at,
decided_at, valid_until) instead of waiting.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone, translation

from audit.actors import Actor
from audit.models import AuditEvent
from consent.lifecycle import add_months, lifecycle_chunk, lifecycle_due, request_token_add
from consent.models import (
    ConsentDecision,
    ConsentRequest,
    ConsentSettings,
    ConsentState,
    ConsentStatus,
    RequestStatus,
)
from consent.selectors import consent_status_of, request_locate, token_hash
from consent.services import (
    consent_record,
    consent_request_create,
    consent_settings_update,
    consent_terms_publish,
)
from consent.tasks import lifecycle_run, lifecycle_tick
from customers.templatetags.registry import consent_badge
from notifications import late
from notifications.models import OutboundMessage
from tenancy.context import tenant_context
from tenancy.tasks import worker_ping
from tests.factories import make_customer
from tests.notifications.conftest import wait_for

from .conftest import NB_TEXT, SV_TEXT

SYSTEM = Actor.system("tests")
LINK = re.compile(r"/c/([A-Za-z0-9_-]+)")


def _request(customer, *, created_days_ago=8, expires_in_days=22, channel="email"):
    """A request made ``created_days_ago`` days ago, still open for ``expires_in_days`` days."""
    request, token = consent_request_create(customer=customer, channel=channel, actor=SYSTEM)
    now = timezone.now()
    ConsentRequest.objects.filter(pk=request.pk).update(
        created_at=now - timedelta(days=created_days_ago),
        expires_at=now + timedelta(days=expires_in_days),
    )
    request.refresh_from_db()
    return request, token


def _messages(request) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(reference=f"consent_request:{request.pk}").order_by("pk")
    )


def _grant(customer, *, version=1, language="sv"):
    return consent_record(
        customer=customer,
        decision="granted",
        method="manual",
        how="paper",
        terms_version=version,
        language=language,
        actor=SYSTEM,
    )


def _shift_validity(customer, *, valid_until, decided_at=None):
    values = {"valid_until": valid_until}
    if decided_at is not None:
        values["decided_at"] = decided_at
    ConsentState.objects.filter(customer=customer).update(**values)


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def page(url, ip):
    return Client().get(url, REMOTE_ADDR=ip)


def post(url, ip, action):
    return Client().post(url, {"action": action}, REMOTE_ADDR=ip)


# ---------------------------------------------------------------------------
# Expiry


def test_open_requests_past_expiry_expire_and_the_state_follows(in_a, customer_a, terms_a):
    with in_a():
        request, _token = _request(customer_a, created_days_ago=31, expires_in_days=-1)
        other = make_customer(name="Per Berg", email="per@example.test", language="sv")
        answered, _t = _request(other, created_days_ago=31, expires_in_days=5)
        consent_record(
            customer=other, decision="granted", method="link", request=answered, actor=SYSTEM
        )
        ConsentRequest.objects.filter(pk=answered.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
        assert lifecycle_due()
        done, more = lifecycle_chunk()
        assert more is None and done["expire"] == 1
        request.refresh_from_db()
        assert request.status == RequestStatus.EXPIRED
        assert ConsentState.objects.get(customer=customer_a).status == ConsentStatus.EXPIRED
        assert ConsentRequest.objects.get(pk=answered.pk).status == RequestStatus.ACCEPTED
        assert consent_status_of(other)["status"] == "granted"
        assert "consent.request_expired" in _actions()
        # Nothing left: a second run changes nothing.
        assert not lifecycle_due()
        assert lifecycle_chunk() == ({}, None)


def test_expiry_works_in_bounded_chunks(in_a, customer_a, terms_a):
    with in_a():
        requests = [
            _request(customer_a, created_days_ago=40, expires_in_days=-1)[0] for _ in range(5)
        ]
        done, more = lifecycle_chunk(limit=2)
        assert done == {"expire": 2} and more == ("expire", requests[1].pk)
        done, more = lifecycle_chunk(step=more[0], after_id=more[1], limit=2)
        assert done == {"expire": 2} and more == ("expire", requests[3].pk)
        done, more = lifecycle_chunk(step=more[0], after_id=more[1], limit=2)
        assert done == {"expire": 1} and more is None
        assert set(ConsentRequest.objects.values_list("status", flat=True)) == {"expired"}


# ---------------------------------------------------------------------------
# One reminder


def test_one_reminder_even_when_the_task_runs_twice(in_a, personas, customer_a, terms_a, ip):
    with in_a():
        request, token = _request(customer_a, created_days_ago=8)
        ConsentRequest.objects.filter(pk=request.pk).update(status=RequestStatus.DELIVERED)
    for _ in range(2):
        lifecycle_run.apply(kwargs={"tenant_id": personas.tenant_a.pk}).get()
    with in_a():
        first, reminder = _messages(request)
        request.refresh_from_db()
        assert request.reminded_at is not None
        assert request.status == RequestStatus.DELIVERED
        assert _actions().count("consent.reminder_sent") == 1
        event = AuditEvent.objects.get(action="consent.reminder_sent")
        assert event.data == {"channel": "email"}
    assert reminder.template == "consent_reminder" and first.template == "consent_request"
    assert reminder.language == "sv" and reminder.destination == "asa@example.test"
    assert reminder.body.startswith("Hej Åsa Lind,")  # in the customer's language
    assert "Nordljus AB" in reminder.body and "Nordljus AB" in reminder.subject
    with in_a():  # the links exist only as the messages are sent
        new_token = LINK.search(late.expand(reminder.body)).group(1)
        assert new_token != token and LINK.search(late.expand(first.body)).group(1) == token
    assert new_token not in reminder.body and token not in first.body
    # Only hashes are stored: the new token is nowhere in the request row.
    assert request.token_hash == token_hash(token)

    # Both links open the same request; answering through the reminder's link counts.
    for link_token in (token, new_token):
        response = page(f"/c/{link_token}", ip)
        assert response.status_code == 200
        assert 'value="accept"' in response.content.decode()
    response = post(f"/c/{new_token}", ip, "accept")
    assert response.status_code == 302
    with in_a():
        decision = ConsentDecision.objects.get()
        assert decision.request_id == request.pk and decision.decision == "granted"
        assert ConsentRequest.objects.get(pk=request.pk).status == RequestStatus.ACCEPTED
    # The original link still works: it now offers withdrawal.
    html = page(f"/c/{token}", ip).content.decode()
    assert 'value="withdraw"' in html and 'value="accept"' not in html


def test_sms_reminder_keeps_the_request_reference(in_a, customer_a, terms_a):
    with in_a():
        request, _token = _request(customer_a, created_days_ago=10, channel="sms")
        lifecycle_chunk()
        _first, reminder = _messages(request)
        assert LINK.search(late.expand(reminder.body))
    assert reminder.channel == "sms" and reminder.destination == "+46701234567"


@pytest.mark.parametrize(
    "case", ["disabled", "answered", "expired", "too_young", "failed", "already_reminded"]
)
def test_no_reminder(in_a, customer_a, terms_a, personas, case):
    with in_a():
        if case == "disabled":
            consent_settings_update(request_valid_days=30, reminder_after_days=None, actor=SYSTEM)
        request, _token = _request(
            customer_a,
            created_days_ago=3 if case == "too_young" else 8,
            expires_in_days=-1 if case == "expired" else 22,
        )
        if case == "answered":
            consent_record(
                customer=customer_a,
                decision="declined",
                method="link",
                request=request,
                actor=SYSTEM,
            )
        if case == "failed":
            ConsentRequest.objects.filter(pk=request.pk).update(status=RequestStatus.FAILED)
        if case == "already_reminded":
            ConsentRequest.objects.filter(pk=request.pk).update(reminded_at=timezone.now())
        lifecycle_chunk()
        assert len(_messages(request)) == 1
        assert "consent.reminder_sent" not in _actions()
        if case != "already_reminded":
            assert ConsentRequest.objects.get(pk=request.pk).reminded_at is None


def test_the_reminder_follows_the_tenants_setting(in_a, customer_a, terms_a):
    with in_a():
        consent_settings_update(request_valid_days=30, reminder_after_days=2, actor=SYSTEM)
        request, _token = _request(customer_a, created_days_ago=3)
        lifecycle_chunk()
        assert len(_messages(request)) == 2


# ---------------------------------------------------------------------------
# The token function: only for a request of the active tenant


def test_token_add_refuses_another_tenants_request(in_a, in_b, customer_a, customer_b):
    with in_b():
        b_request, _token = consent_request_create(
            customer=customer_b, channel="email", actor=SYSTEM
        )
    forged = token_hash("forged-token")
    with in_a(), connection.cursor() as cursor:
        cursor.execute("SELECT kundreg_consent_token_add(%s, %s)", [b_request.pk, forged])
        assert cursor.fetchone()[0] is False
        # Nor a malformed hash, nor a hash already taken, for the tenant's own request.
        a_request, a_token = consent_request_create(
            customer=customer_a, channel="email", actor=SYSTEM
        )
        for bad in ["abc", token_hash(a_token)]:
            cursor.execute("SELECT kundreg_consent_token_add(%s, %s)", [a_request.pk, bad])
            assert cursor.fetchone()[0] is False
    with transaction.atomic(), connection.cursor() as cursor:  # no tenant at all
        cursor.execute("SELECT kundreg_consent_token_add(%s, %s)", [b_request.pk, forged])
        assert cursor.fetchone()[0] is False
    with in_b(), connection.cursor() as cursor:
        cursor.execute("SELECT kundreg_consent_token_add(%s, %s)", [b_request.pk, forged])
        assert cursor.fetchone()[0] is True
    with in_a():
        located = request_locate(request_token_add(request=a_request))
        assert located[0] == a_request.pk and located[1].pk == a_request.tenant_id
        with pytest.raises(RuntimeError):
            request_token_add(request=b_request)


def test_a_tenants_run_never_touches_another_tenant(in_a, in_b, customer_a, customer_b, personas):
    with in_b():
        consent_settings_update(request_valid_days=30, consent_valid_months=12, actor=SYSTEM)
        b_expired, _t = _request(customer_b, created_days_ago=40, expires_in_days=-1)
        b_remind, _t = _request(
            make_customer(name="Ola", email="ola@example.test", language="nb"),
            created_days_ago=8,
        )
        _grant(customer_b, language="nb")
        _shift_validity(customer_b, valid_until=timezone.now() - timedelta(days=1))
        b_audit = AuditEvent.objects.count()
        b_messages = OutboundMessage.objects.count()
    with in_a():
        _request(customer_a, created_days_ago=40, expires_in_days=-1)
        lifecycle_chunk()
    lifecycle_run.apply(kwargs={"tenant_id": personas.tenant_a.pk}).get()
    with in_b():
        assert ConsentRequest.objects.get(pk=b_expired.pk).status == RequestStatus.QUEUED
        assert ConsentRequest.objects.get(pk=b_remind.pk).reminded_at is None
        assert ConsentState.objects.get(customer=customer_b).status == ConsentStatus.GRANTED
        assert AuditEvent.objects.count() == b_audit
        assert OutboundMessage.objects.count() == b_messages
        assert lifecycle_due()


# ---------------------------------------------------------------------------
# Consent validity


def test_valid_until_is_set_on_grant_and_cleared_on_withdrawal(in_a, customer_a, terms_a):
    with in_a():
        _grant(customer_a)
        assert ConsentState.objects.get(customer=customer_a).valid_until is None
        consent_settings_update(request_valid_days=30, consent_valid_months=12, actor=SYSTEM)
        proof = _grant(customer_a)
        state = ConsentState.objects.get(customer=customer_a)
        assert state.valid_until == add_months(proof.decided_at, 12)
        consent_record(customer=customer_a, decision="withdrawn", method="manual", actor=SYSTEM)
        state = ConsentState.objects.get(customer=customer_a)
        assert state.status == "withdrawn" and state.valid_until is None


def test_add_months_clamps_to_the_end_of_the_month():
    moment = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    assert add_months(moment, 1) == datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
    assert add_months(moment, 13) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert add_months(datetime(2023, 11, 30, tzinfo=UTC), 3) == datetime(2024, 2, 29, tzinfo=UTC)


def test_changing_the_validity_recomputes_every_granted_consent(in_a, customer_a, terms_a):
    with in_a():
        other = make_customer(name="Per Berg", email="per@example.test", language="sv")
        declined = make_customer(name="Eva Ek", email="eva@example.test", language="sv")
        _grant(customer_a)
        _grant(other)
        consent_record(customer=declined, decision="declined", method="manual", actor=SYSTEM)
        # Granted on 31 January: the SQL month arithmetic must agree with add_months.
        jan31 = datetime(timezone.now().year - 2, 1, 31, 12, 0, tzinfo=UTC)
        ConsentState.objects.filter(customer=other).update(
            decided_at=jan31, renewal_requested_at=jan31
        )
        consent_settings_update(request_valid_days=30, consent_valid_months=13, actor=SYSTEM)
        states = {s.customer_id: s for s in ConsentState.objects.all()}
        a_state = states[customer_a.pk]
        assert a_state.valid_until == add_months(a_state.decided_at, 13)
        assert states[other.pk].valid_until == add_months(jan31, 13)
        # Its renewal time (end of February last year, minus 30 days) is past: the mark stays.
        assert states[other.pk].renewal_requested_at == jan31
        assert states[declined.pk].valid_until is None
        event = AuditEvent.objects.filter(action="consent.settings_changed").last()
        assert event.data["states_recomputed"] == 2 and event.data["consent_valid_months"] == 13

        consent_settings_update(request_valid_days=30, consent_valid_months=36, actor=SYSTEM)
        state = ConsentState.objects.get(customer=other)
        assert state.valid_until == add_months(jan31, 36)
        assert state.renewal_requested_at is None  # to be asked again, later

        consent_settings_update(request_valid_days=30, consent_valid_months=None, actor=SYSTEM)
        assert set(ConsentState.objects.values_list("valid_until", flat=True)) == {None}


def test_renewal_is_requested_once_before_the_consent_lapses(
    in_a, customer_a, terms_a, ip, personas
):
    with in_a():
        consent_settings_update(
            request_valid_days=30, consent_valid_months=12, renewal_notice_days=30, actor=SYSTEM
        )
        _grant(customer_a)
        # Not yet within the notice: nothing.
        lifecycle_chunk()
        assert ConsentRequest.objects.count() == 0
        _shift_validity(customer_a, valid_until=timezone.now() + timedelta(days=10))
        for _ in range(2):
            lifecycle_chunk()
        renewal = ConsentRequest.objects.get()
        state = ConsentState.objects.get(customer=customer_a)
        assert state.status == ConsentStatus.GRANTED  # while the renewal is pending
        assert state.renewal_requested_at is not None
        assert renewal.channel == "email"
        assert _actions().count("consent.renewal_requested") == 1
        message = _messages(renewal)[0]
        sent_body = late.expand(message.body)
    # The renewal link lets the customer accept again (and still withdraw).
    url = "/c/" + LINK.search(sent_body).group(1)
    html = page(url, ip).content.decode()
    assert 'value="accept"' in html and 'value="withdraw"' in html

    # The consent lapses: EXPIRED, audited, with the badge "Consent expired".
    with in_a():
        _shift_validity(customer_a, valid_until=timezone.now() - timedelta(minutes=1))
        done, _more = lifecycle_chunk()
        assert done == {"lapse": 1}
        state = ConsentState.objects.get(customer=customer_a)
        assert state.status == ConsentStatus.EXPIRED
        assert consent_status_of(customer_a)["status"] == "expired"
        event = AuditEvent.objects.get(action="consent.lapsed")
        assert event.data["customer_id"] == customer_a.pk
        assert "Åsa" not in str(event.data)
        with translation.override("en"):
            assert "Consent expired" in consent_badge(customer_a)
        assert ConsentRequest.objects.count() == 1  # no second renewal
    html = page(url, ip).content.decode()
    assert 'value="accept"' in html

    # Accepting the renewal grants again: a new validity, the renewal mark cleared.
    assert post(url, ip, "accept").status_code == 302
    with in_a():
        state = ConsentState.objects.get(customer=customer_a)
        assert state.status == ConsentStatus.GRANTED
        assert state.renewal_requested_at is None
        assert state.valid_until == add_months(state.decided_at, 12)
        assert state.valid_until > timezone.now() + timedelta(days=360)


def test_a_renewal_due_after_lapse_is_still_sent_then_the_consent_lapses(in_a, customer_a, terms_a):
    with in_a():
        consent_settings_update(request_valid_days=30, consent_valid_months=12, actor=SYSTEM)
        _grant(customer_a)
        _shift_validity(customer_a, valid_until=timezone.now() - timedelta(days=1))
        done, more = lifecycle_chunk()
        assert done == {"renew": 1, "lapse": 1} and more is None
        assert ConsentRequest.objects.count() == 1
        assert ConsentState.objects.get(customer=customer_a).status == ConsentStatus.EXPIRED


def test_a_customer_without_address_is_marked_not_retried(in_a, customer_a, terms_a):
    with in_a():
        consent_settings_update(request_valid_days=30, consent_valid_months=12, actor=SYSTEM)
        silent = make_customer(name="Utan Adress", language="sv")
        _grant(silent)
        _shift_validity(silent, valid_until=timezone.now() + timedelta(days=5))
        for _ in range(2):
            lifecycle_chunk()
        assert ConsentRequest.objects.count() == 0
        assert ConsentState.objects.get(customer=silent).renewal_requested_at is not None
        assert _actions().count("consent.renewal_unreachable") == 1
        event = AuditEvent.objects.get(action="consent.renewal_unreachable")
        assert event.data["reason"] == "no_address"


# ---------------------------------------------------------------------------
# The settings page


def test_admin_saves_the_lifecycle_settings(personas, in_a, customer_a, terms_a):
    with in_a():
        _grant(customer_a)
    client = personas.client(personas.alice)
    page_html = client.get("/settings/consent/").content.decode()
    for name in ("reminder_after_days", "consent_valid_months", "renewal_notice_days"):
        assert f'name="settings-{name}"' in page_html
    response = client.post(
        "/settings/consent/",
        {
            "form": "settings",
            "settings-request_valid_days": "14",
            "settings-reminder_after_days": "",
            "settings-consent_valid_months": "24",
            "settings-renewal_notice_days": "45",
        },
    )
    assert response.status_code == 302
    with in_a():
        row = ConsentSettings.objects.get()
        assert (
            row.request_valid_days,
            row.reminder_after_days,
            row.consent_valid_months,
            row.renewal_notice_days,
        ) == (14, None, 24, 45)
        state = ConsentState.objects.get(customer=customer_a)
        assert state.valid_until == add_months(state.decided_at, 24)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"reminder_after_days": "0"}, "reminder_after_days"),
        ({"reminder_after_days": "abc"}, "reminder_after_days"),
        ({"reminder_after_days": "30"}, "reminder_after_days"),  # not before the link expires
        ({"consent_valid_months": "121"}, "consent_valid_months"),
        ({"consent_valid_months": "-1"}, "consent_valid_months"),
        ({"renewal_notice_days": "0"}, "renewal_notice_days"),
        ({"renewal_notice_days": ""}, "renewal_notice_days"),
        ({"consent_valid_months": "1", "renewal_notice_days": "28"}, "renewal_notice_days"),
        ({"request_valid_days": "366"}, "request_valid_days"),
    ],
)
def test_bad_settings_get_a_field_error_and_save_nothing(personas, in_a, values, field):
    with in_a():
        consent_settings_update(request_valid_days=30, actor=SYSTEM)
        before = list(ConsentSettings.objects.values())
    data = {
        "form": "settings",
        "settings-request_valid_days": "30",
        "settings-reminder_after_days": "7",
        "settings-consent_valid_months": "",
        "settings-renewal_notice_days": "30",
    }
    data.update({f"settings-{name}": value for name, value in values.items()})
    with translation.override("en"):
        response = personas.client(personas.alice).post(
            "/settings/consent/", data, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 200
    form = response.context["settings_form"]
    assert list(form.errors) == [field]
    assert "has-error" in response.content.decode()
    with in_a():
        assert list(ConsentSettings.objects.values()) == before


def test_the_service_refuses_bad_values_too(in_a):
    from django.core.exceptions import ValidationError

    with in_a():
        for kwargs, field in [
            ({"reminder_after_days": 0}, "reminder_after_days"),
            ({"consent_valid_months": "x"}, "consent_valid_months"),
            ({"renewal_notice_days": None}, "renewal_notice_days"),
            ({"reminder_after_days": True}, "reminder_after_days"),
        ]:
            with pytest.raises(ValidationError) as exc:
                consent_settings_update(request_valid_days=30, actor=SYSTEM, **kwargs)
            assert list(exc.value.message_dict) == [field]
        assert not ConsentSettings.objects.exists()


# ---------------------------------------------------------------------------
# End to end: beat's task on a real worker


def test_beat_task_on_a_real_worker(live_personas, celery_worker):
    tenant_a, tenant_b = live_personas.tenant_a, live_personas.tenant_b
    with tenant_context(tenant_a):
        consent_terms_publish(language="sv", text=SV_TEXT, actor=SYSTEM)
        due = make_customer(name="Åsa Lind", email="asa@example.test", language="sv")
        old = make_customer(name="Per Berg", email="per@example.test", language="sv")
        reminded, _t = _request(due, created_days_ago=8)
        expiring, _t = _request(old, created_days_ago=40, expires_in_days=-1)
    with tenant_context(tenant_b):
        consent_terms_publish(language="nb", text=NB_TEXT, actor=SYSTEM)
        kari = make_customer(name="Kari Nordmann", email="kari@example.test", language="nb")
        b_request, _t = _request(kari, created_days_ago=40, expires_in_days=-1)
        # Tenant B has nothing else due, and is left alone by tenant A's run.
        ConsentRequest.objects.filter(pk=b_request.pk).update(status=RequestStatus.ACCEPTED)

    lifecycle_tick.delay()

    def finished():
        with tenant_context(tenant_a):
            return (
                ConsentRequest.objects.filter(pk=reminded.pk, reminded_at__isnull=False).exists()
                and ConsentRequest.objects.get(pk=expiring.pk).status == RequestStatus.EXPIRED
            )

    assert wait_for(finished, timeout=30)
    with tenant_context(tenant_a):
        assert len(_messages(reminded)) == 2
        assert ConsentState.objects.get(customer=old).status == ConsentStatus.EXPIRED
        assert not lifecycle_due()
    # Run again on the worker: no second reminder. The worker is a single thread taking
    # tasks in order, so when the ping after it has run, so has the lifecycle run.
    lifecycle_run.delay(tenant_id=tenant_a.pk)
    worker_ping.delay("after-lifecycle", tenant_id=tenant_a.pk)

    def pinged():
        with tenant_context(tenant_a):
            return AuditEvent.objects.filter(action="worker.ping").exists()

    assert wait_for(pinged, timeout=30)
    assert lifecycle_tick.apply().get() == 0  # nothing due anywhere
    with tenant_context(tenant_a):
        assert len(_messages(reminded)) == 2
        assert AuditEvent.objects.filter(action="consent.reminder_sent").count() == 1
    with tenant_context(tenant_b):
        assert ConsentRequest.objects.get(pk=b_request.pk).status == RequestStatus.ACCEPTED
        assert not AuditEvent.objects.filter(action__startswith="consent.reminder").exists()


def test_a_consent_past_its_validity_reads_expired_before_the_hourly_run(in_a, customer_a, terms_a):
    from consent.selectors import (
        consent_status_for_registry,
        consent_status_of,
        customers_by_consent_status,
        forget_registry_states,
    )
    from customers.models import Customer

    with in_a():
        consent_settings_update(request_valid_days=30, consent_valid_months=12, actor=SYSTEM)
        _grant(customer_a)
        assert consent_status_of(customer_a)["status"] == "granted"
        _shift_validity(customer_a, valid_until=timezone.now() - timedelta(minutes=1))
        forget_registry_states()
        # The row still says granted: the lifecycle run has not been yet.
        assert ConsentState.objects.get(customer=customer_a).status == ConsentStatus.GRANTED
        assert consent_status_of(customer_a)["status"] == "expired"
        assert consent_status_for_registry(customer_a)["status"] == "expired"
        customers = Customer.objects.filter(pk=customer_a.pk)
        assert list(customers_by_consent_status(customers, "expired")) == [customer_a]
        assert list(customers_by_consent_status(customers, "granted")) == []
