"""Mass deletion (issue 10 item 5, Avance's "Massradera"): a proposal by last activity with
the customers that cannot be deleted struck out and why, executed with the phrase as a job
that deletes the rest with their own registers, re-checks each customer, audits ids and
counts, and keeps tenants and roles apart."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anonymization import deletion
from anonymization.models import (
    DeletionOutcome,
    DeletionRun,
    DeletionRunItem,
    LegalHold,
    RunStatus,
)
from anonymization.services import legal_hold_set
from audit.actors import Actor
from audit.models import AuditEvent
from consent.services import consent_record, consent_request_create, consent_terms_publish
from customers.models import (
    Activity,
    Address,
    Attachment,
    Consignee,
    Contact,
    ContactKey,
    CustomerIdCard,
    CustomerKey,
)
from customers.models import Customer as CustomerModel
from customers.services import keys
from customers.services.activities import activity_add
from customers.services.attachments import attachment_add_file
from customers.services.consignees import consignee_create
from customers.services.contacts import contact_create, contact_link
from notifications.models import OutboundMessage
from tenancy.context import tenant_context
from tenancy.models import ReferenceRegister
from tests.anonymization.test_eligibility import customer, document
from tests.factories import ReferenceEntryFactory

OLD = dt.date(2015, 3, 1)
BEFORE = "2020-01-01"
SYSTEM = Actor.system("tests")
PAGE = "/anonymization/deletion/"
START = "/anonymization/deletion/start/"


@pytest.fixture
def world(personas, settings, tmp_path):
    """Tenant A: three old customers nothing keeps, one of each reason, one recent; B: one."""
    settings.MEDIA_ROOT = tmp_path
    p = personas
    with tenant_context(p.tenant_a):
        p.free = [
            customer(f"Gammal {n} AB", last=OLD, email=f"g{n}@example.test") for n in range(3)
        ]
        p.sold = customer("Såld AB", last=OLD)
        document(p.sold, "invoice")
        p.held = customer("Tvist AB", last=OLD)
        legal_hold_set(customer=p.held, reason="Tvist", actor=SYSTEM)
        p.was_held = customer("Förr Tvist AB", last=OLD)
        LegalHold.objects.create(
            customer=p.was_held, reason="Löst", set_at=timezone.now(), lifted_at=timezone.now()
        )
        terms = consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=SYSTEM)
        p.consented = customer("Samtycke AB", last=OLD, email="s@example.test")
        consent_record(
            customer=p.consented,
            decision="granted",
            method="manual",
            actor=SYSTEM,
            language="sv",
            terms_version=terms.version,
        )
        p.asked = customer("Tillfrågad AB", last=OLD, email="t@example.test")
        consent_request_create(customer=p.asked, channel="email", language="sv", actor=SYSTEM)
        p.messaged = customer("Meddelad AB", last=OLD)
        OutboundMessage.objects.create(
            customer=p.messaged,
            channel="email",
            destination="m@example.test",
            language="sv",
            template="plain",
            body="Hej",
        )
        p.recent = customer("Ny AB", last=dt.date.today())
    with tenant_context(p.tenant_b):
        p.other = customer("Fjordvik AS", last=OLD)
    return p


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def sv(client):
    client.cookies["django_language"] = "sv"
    return client


def work(run_id: int, limit: int | None = None) -> int:
    chunks = 1
    while deletion.deletion_run_chunk(run_id=run_id, limit=limit):
        chunks += 1
    return chunks


def execute_data(client, phrase="Radera kunder", **extra):
    """The execute form as the proposal page rendered it (filter, fingerprint) plus input."""
    page = client.get(PAGE, {"last_activity_before": BEFORE})
    fingerprint = page.context["fingerprint"]
    return {
        "last_activity_before": BEFORE,
        "fingerprint": fingerprint,
        "note": "Årlig gallring",
        "phrase": phrase,
        **extra,
    }


# --- The proposal ---------------------------------------------------------------------------


def test_the_proposal_splits_deletable_and_struck_out_with_reasons(world):
    p = world
    with tenant_context(p.tenant_a):
        matching = CustomerModel.objects.filter(
            last_activity_at__lt=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
        deletable, undeletable = deletion.deletion_proposal(matching)
        assert ids(deletable) == {c.pk for c in p.free}
        reasons = {c.pk: deletion.reasons_of(c) for c in undeletable}
    assert reasons == {
        p.sold.pk: ["sales_documents"],
        p.held.pk: ["legal_hold"],
        p.was_held.pk: ["legal_hold_record"],
        # A decision is append-only proof (PROTECT, and the database refuses DELETE).
        p.consented.pk: ["consent_proof"],
        p.asked.pk: ["consent_requests", "messages"],
        p.messaged.pk: ["messages"],
    }


def test_the_reasons_are_one_query_whatever_the_number_of_customers(world):
    p = world
    with tenant_context(p.tenant_a):
        counts = []
        for chosen in ([p.free[0].pk], [c.pk for c in (*p.free, p.sold, p.held, p.asked)]):
            with CaptureQueriesContext(connection) as queries:
                deletion.blockers(chosen)
            counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_page_shows_the_proposal_with_struck_out_rows(world):
    p = world
    page = sv(p.client(p.bea)).get(PAGE, {"last_activity_before": BEFORE})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="deletable-count">3<' in html
    assert 'id="undeletable-count">6<' in html
    assert f'id="kept-{p.sold.pk}" class="undeletable"' in html
    assert "<del>" in html
    assert f'id="deletable-{p.recent.pk}"' not in html and f'id="kept-{p.recent.pk}"' not in html
    assert 'id="deletion-form"' in html and "Radera kunder" in html
    english = p.client(p.bea).get(PAGE, {"last_activity_before": BEFORE}).content.decode()
    assert "Used in sales documents" in english and "Has consent proof" in english


def test_the_date_is_required_and_the_status_filter_applies(world):
    p = world
    client = p.client(p.alice)
    assert 'id="deletion-form"' not in client.get(PAGE).content.decode()
    response = client.get(PAGE, {"last_activity_before": "inte ett datum"})
    assert response.status_code == 400
    with tenant_context(p.tenant_a):
        CustomerModel.objects.filter(pk=p.free[0].pk).update(status="inactive")
    html = client.get(PAGE, {"last_activity_before": BEFORE, "status": "inactive"}).content.decode()
    assert 'id="deletable-count">1<' in html and f'id="deletable-{p.free[0].pk}"' in html


def test_an_anonymized_customer_nothing_keeps_may_be_deleted(world):
    p = world
    with tenant_context(p.tenant_a):
        CustomerModel.objects.filter(pk__in=[p.free[0].pk, p.sold.pk]).update(status="anonymized")
        deletable, undeletable = deletion.deletion_proposal(
            CustomerModel.objects.filter(status="anonymized")
        )
        assert ids(deletable) == {p.free[0].pk}
        assert ids(undeletable) == {p.sold.pk}  # kept for the books by its invoice
    html = p.client(p.alice).get(PAGE, {"last_activity_before": BEFORE, "status": "inactive"})
    assert f'id="deletable-{p.free[0].pk}"' in html.content.decode()


# --- Executing it ---------------------------------------------------------------------------


def _registers(c, other):
    """One of each of the customer's own registers; a contact only it has, one shared."""
    key_type = ReferenceEntryFactory(register=ReferenceRegister.KEY_TYPE, code="B", name="B")
    own = contact_create(customer=c, actor=SYSTEM, first_name="Egen", last_name="Kontakt")
    keys.contact_key_add(contact=own, key_type=key_type, value="Ja", actor=SYSTEM)
    shared = contact_create(customer=c, actor=SYSTEM, first_name="Delad", last_name="Kontakt")
    contact_link(contact=shared, customer=other, actor=SYSTEM)
    Address.objects.create(customer=c, kind="postal", line1="Storgatan 1", city="Luleå")
    consignee_create(customer=c, actor=SYSTEM, number="L1", name="Lager")
    keys.customer_key_add(customer=c, key_type=key_type, value="Bygg", actor=SYSTEM)
    keys.id_card_create(customer=c, number="9001", actor=SYSTEM)
    activity_add(customer=c, kind="task", subject="Ring", actor=SYSTEM)
    attachment = attachment_add_file(
        customer=c,
        uploaded_file=SimpleUploadedFile("avtal.txt", b"avtal", content_type="text/plain"),
        actor=SYSTEM,
    )
    return own, shared, attachment


def test_execute_deletes_exactly_the_deletable_with_their_registers(
    world, django_capture_on_commit_callbacks
):
    p = world
    with tenant_context(p.tenant_a):
        target, stays = p.free[0], p.sold
        own, shared, attachment = _registers(target, stays)
        stored = attachment.file.path
    client = sv(p.client(p.bea))
    response = client.post(START, execute_data(client))
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(p.tenant_a):
        run = DeletionRun.objects.get()
        assert response["Location"].endswith(f"/anonymization/deletion/runs/{run.pk}/")
        assert (run.total, run.excluded, run.status) == (3, 6, RunStatus.QUEUED)
        assert run.criteria == {"last_activity_before": BEFORE, "status": "active"}
        with django_capture_on_commit_callbacks(execute=True):
            work(run.pk)
        run.refresh_from_db()
        assert (run.status, run.deleted, run.skipped, run.files_deleted) == (
            RunStatus.DONE,
            3,
            0,
            1,
        )
        assert not CustomerModel.objects.filter(pk__in=[c.pk for c in p.free]).exists()
        left = ids(CustomerModel.objects.all())
        assert left == {
            c.pk for c in (p.sold, p.held, p.was_held, p.consented, p.asked, p.messaged, p.recent)
        }
        for model in (Address, Consignee, CustomerKey, CustomerIdCard, Activity, Attachment):
            assert not model.objects.filter(customer_id=target.pk).exists(), model
        assert not Contact.objects.filter(pk=own.pk).exists()
        assert not ContactKey.objects.filter(contact_id=own.pk).exists()
        # The shared contact stays, linked to the customer that stays.
        assert list(Contact.objects.get(pk=shared.pk).customers.all()) == [stays]
        assert run.counts["customers.Customer"] == 3
        assert run.counts["customers.Contact"] == 1
    import os

    assert not os.path.exists(stored)
    page = client.get(f"/anonymization/deletion/runs/{run.pk}/").content.decode()
    assert 'id="run-deleted">3<' in page
    log = client.get("/anonymization/deletion/runs/").content.decode()
    assert f'id="deletion-run-{run.pk}"' in log and "Årlig gallring" in log


def test_audit_entries_have_ids_and_counts_and_no_names(world):
    p = world
    with tenant_context(p.tenant_a):
        run = deletion.deletion_run_start(
            customer_ids=[c.pk for c in (*p.free, p.sold)], actor=SYSTEM, note="Gallring"
        )
        work(run.pk, limit=2)
        events = list(
            AuditEvent.objects.filter(action__startswith="customer.mass_").order_by("seq")
        )
    actions = [e.action for e in events]
    assert actions == [
        "customer.mass_deletion_started",
        "customer.mass_deleted",
        "customer.mass_deleted",
        "customer.mass_deletion_finished",
    ]
    started, first, second, finished = events
    assert started.data["total"] == 3 and started.data["excluded"] == 1
    assert started.data["excluded_by_reason"] == {"sales_documents": 1}
    assert sorted(first.data["deleted"] + second.data["deleted"]) == sorted(c.pk for c in p.free)
    assert first.data["count"] + second.data["count"] == 3
    assert finished.data == {"total": 3, "deleted": 3, "skipped": 0, "excluded": 1}
    text = str([e.data for e in events])
    assert "Gammal" not in text and "example.test" not in text


def test_a_customer_that_became_undeletable_is_skipped_with_its_reason(world):
    p = world
    with tenant_context(p.tenant_a):
        run = deletion.deletion_run_start(customer_ids=[c.pk for c in p.free], actor=SYSTEM)
        # Between the proposal and its chunk: one bought something, one was put on hold.
        document(p.free[0], "invoice", status="open", balance="10.00", day=dt.date.today())
        legal_hold_set(customer=p.free[1], reason="Revision", actor=SYSTEM)
        work(run.pk)
        run.refresh_from_db()
        assert (run.deleted, run.skipped, run.status) == (1, 2, RunStatus.DONE)
        reasons = dict(DeletionRunItem.objects.filter(run=run).values_list("customer_id", "reason"))
        assert reasons == {
            p.free[0].pk: "sales_documents",
            p.free[1].pk: "legal_hold",
            p.free[2].pk: "",
        }
        assert ids(CustomerModel.objects.filter(pk__in=[c.pk for c in p.free])) == {
            p.free[0].pk,
            p.free[1].pk,
        }
    page = p.client(p.alice).get(f"/anonymization/deletion/runs/{run.pk}/").content.decode()
    assert 'id="run-skipped-reasons"' in page and "Used in sales documents" in page


def test_chunks_are_exact_and_a_second_pass_changes_nothing(world):
    p = world
    with tenant_context(p.tenant_a):
        run = deletion.deletion_run_start(customer_ids=[c.pk for c in p.free], actor=SYSTEM)
        assert work(run.pk, limit=2) == 2
        assert deletion.deletion_run_chunk(run_id=run.pk) is False
        run.refresh_from_db()
        assert (run.deleted, run.skipped) == (3, 0)
        assert AuditEvent.objects.filter(action="customer.mass_deleted").count() == 2
        assert not DeletionRunItem.objects.filter(outcome=DeletionOutcome.PENDING).exists()


def test_nothing_deletable_is_refused(world):
    p = world
    with tenant_context(p.tenant_a):
        with pytest.raises(ValidationError):
            deletion.deletion_run_start(customer_ids=[p.sold.pk, p.held.pk], actor=SYSTEM)
        assert not DeletionRun.objects.exists()


@pytest.mark.parametrize(
    "phrase", ["", "radera", "Delete customers", "Slet kunder", "Slett kunder"]
)
def test_the_phrase_must_be_the_page_languages(world, phrase):
    p = world
    client = sv(p.client(p.alice))
    response = client.post(START, execute_data(client, phrase=phrase))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_phrase_error"' in html and "Radera kunder" in html
    with tenant_context(p.tenant_a):
        assert not DeletionRun.objects.exists()
        assert CustomerModel.objects.filter(pk=p.free[0].pk).exists()


@pytest.mark.parametrize(
    ("language", "phrase"),
    [("en", " delete  CUSTOMERS "), ("da", "Slet kunder"), ("nb", "Slett kunder")],
)
def test_each_language_has_its_phrase(world, language, phrase):
    p = world
    client = p.client(p.alice)
    client.cookies["django_language"] = language
    assert client.post(START, execute_data(client, phrase=phrase)).status_code == 302


def test_a_changed_proposal_is_not_executed(world):
    p = world
    client = sv(p.client(p.alice))
    data = execute_data(client)
    with tenant_context(p.tenant_a):
        customer("Också Gammal AB", last=OLD)
    response = client.post(START, data)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    with tenant_context(p.tenant_a):
        assert not DeletionRun.objects.exists()


def test_staff_and_employees_may_not(world):
    p = world
    for user in (p.bob, p.erik):
        client = sv(p.client(user))
        assert client.get(PAGE, {"last_activity_before": BEFORE}).status_code == 403
        data = {"last_activity_before": BEFORE, "fingerprint": "x", "phrase": "Radera kunder"}
        assert client.post(START, data).status_code == 403
    with tenant_context(p.tenant_a):
        assert not DeletionRun.objects.exists()
    anonymization = sv(p.client(p.alice)).get("/anonymization/").content.decode()
    assert 'href="/t/' in anonymization and "/anonymization/deletion/" in anonymization


def test_another_tenant_is_untouched_and_its_runs_do_not_exist(world):
    p = world
    with tenant_context(p.tenant_b), pytest.raises(ValidationError):
        deletion.deletion_run_start(customer_ids=[c.pk for c in p.free], actor=SYSTEM)
    with tenant_context(p.tenant_a):
        run = deletion.deletion_run_start(
            customer_ids=[p.free[0].pk, p.other.pk], actor=SYSTEM, note="Gallring"
        )
        assert run.total == 1
        work(run.pk)
    charlie = p.client(p.charlie)
    assert charlie.get(f"/anonymization/deletion/runs/{run.pk}/").status_code == 404
    assert (
        f'id="deletion-run-{run.pk}"'
        not in charlie.get("/anonymization/deletion/runs/").content.decode()
    )
    html = charlie.get(PAGE, {"last_activity_before": BEFORE}).content.decode()
    assert f'id="deletable-{p.other.pk}"' in html and "Gammal" not in html
    with tenant_context(p.tenant_b):
        assert CustomerModel.objects.filter(pk=p.other.pk).exists()


def test_the_sweep_resumes_a_run_whose_task_was_lost(world):
    p = world
    with tenant_context(p.tenant_a):
        run = deletion.deletion_run_start(customer_ids=[c.pk for c in p.free], actor=SYSTEM)
        DeletionRun.objects.filter(pk=run.pk).update(
            created_at=run.created_at - timedelta(minutes=10)
        )
        assert deletion.deletion_runs_resume(stalled_after=timedelta(minutes=5)) == 1
        assert deletion.deletion_runs_resume(stalled_after=timedelta(minutes=5)) == 0


def test_a_stopped_run_leaves_its_waiting_customers(world):
    p = world
    with tenant_context(p.tenant_a):
        run = deletion.deletion_run_start(customer_ids=[c.pk for c in p.free], actor=SYSTEM)
        assert deletion.deletion_run_stop(run_id=run.pk, reason="OperationalError") is True
        assert deletion.deletion_run_chunk(run_id=run.pk) is False
        run.refresh_from_db()
        assert run.status == RunStatus.FAILED and run.deleted == 0
        assert CustomerModel.objects.filter(pk__in=[c.pk for c in p.free]).count() == 3


@override_settings(ANONYMIZATION_CHUNK_SIZE=2)
def test_a_real_worker_runs_it_in_chunks(live_personas, celery_worker):
    from tests.notifications.conftest import wait_for

    p = live_personas
    with tenant_context(p.tenant_a):
        chosen = [customer(f"Gammal {n} AB", last=OLD).pk for n in range(5)]
        kept = customer("Såld AB", last=OLD)
        document(kept, "invoice")
    with tenant_context(p.tenant_a):  # commits on exit: the task is sent then
        run = deletion.deletion_run_start(customer_ids=[*chosen, kept.pk], actor=SYSTEM)

    def done():
        with tenant_context(p.tenant_a):
            return DeletionRun.objects.get(pk=run.pk).status == RunStatus.DONE

    assert wait_for(done, timeout=60)
    with tenant_context(p.tenant_a):
        run.refresh_from_db()
        assert (run.total, run.excluded, run.deleted, run.skipped) == (5, 1, 5, 0)
        assert AuditEvent.objects.filter(action="customer.mass_deleted").count() == 3
        assert ids(CustomerModel.objects.all()) == {kept.pk}
