"""Anonymization runs (issue 10 item 3): started from the page with the phrase, worked in
chunks that are exact and idempotent, re-checked per customer, resumed by the sweep, run by
a real worker, read through the log, the API and the command; roles and tenants kept apart."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from anonymization import runs
from anonymization.models import (
    AnonymizationRun,
    AnonymizationRunItem,
    ItemOutcome,
    RetentionPolicy,
    RunSource,
    RunStatus,
)
from anonymization.registry import ALL_CATEGORIES, NAME
from anonymization.services import legal_hold_set
from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer, CustomerStatus
from tenancy.context import tenant_context
from tests.anonymization.test_eligibility import customer, document

OLD = dt.date(2015, 3, 1)
SYSTEM = Actor.system("tests")
START = "/anonymization/runs/start/"


@pytest.fixture
def old(personas):
    """Five customers of A whose period has long passed, one of B."""
    with tenant_context(personas.tenant_a):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        personas.old = [
            customer(f"Gammal {n} AB", last=OLD, email=f"g{n}@example.test") for n in range(5)
        ]
    with tenant_context(personas.tenant_b):
        personas.other = customer("Fjordvik AS", last=OLD)
    return personas


def form(ids, *, phrase="Jag förstår anonymisering", categories=ALL_CATEGORIES, **extra):
    return {
        "customer": [str(pk) for pk in ids],
        "categories": sorted(categories),
        "phrase": phrase,
        "note": "Årlig gallring",
        **extra,
    }


def work(run_id: int, limit: int | None = None) -> int:
    chunks = 0
    while runs.anonymization_run_chunk(run_id=run_id, limit=limit):
        chunks += 1
    return chunks + 1


def sv(client):
    client.cookies["django_language"] = "sv"
    return client


def test_start_from_the_page_and_work_it_through(old):
    p = old
    ids = [c.pk for c in p.old[:2]]
    response = sv(p.client(p.bea)).post(START, form(ids))
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(p.tenant_a):
        run = AnonymizationRun.objects.get()
        assert (run.total, run.status, run.source) == (2, RunStatus.QUEUED, RunSource.PAGE)
        assert response["Location"].endswith(f"/anonymization/runs/{run.pk}/")
        work(run.pk)
        run.refresh_from_db()
        assert (run.status, run.anonymized, run.skipped) == (RunStatus.DONE, 2, 0)
        assert run.note == "Årlig gallring" and run.finished_at
        for c in Customer.objects.filter(pk__in=ids):
            assert c.status == CustomerStatus.ANONYMIZED
            assert "Gammal" not in c.name
        assert Customer.objects.filter(status=CustomerStatus.ACTIVE).count() == 3
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"anonymization.run_started", "anonymization.run_finished"} <= actions
    page = p.client(p.bea).get(f"/anonymization/runs/{run.pk}/").content.decode()
    assert 'id="run-anonymized">2<' in page
    log = p.client(p.bea).get("/anonymization/runs/").content.decode()
    assert f'id="run-{run.pk}"' in log and "Årlig gallring" in log


@pytest.mark.parametrize(
    "phrase", ["", "jag förstår", "I understand anonymization", "Jeg forstår anonymisering"]
)
def test_the_phrase_must_be_the_page_languages(old, phrase):
    p = old
    response = sv(p.client(p.alice)).post(START, form([p.old[0].pk], phrase=phrase))
    assert response.status_code == 400
    assert 'id="id_phrase_error"' in response.content.decode()
    assert "Jag förstår anonymisering" in response.content.decode()
    with tenant_context(p.tenant_a):
        assert not AnonymizationRun.objects.exists()


def test_the_phrase_in_english_on_an_english_page(old):
    p = old
    client = p.client(p.alice)
    client.cookies["django_language"] = "en"
    response = client.post(START, form([p.old[0].pk], phrase=" i understand  anonymization "))
    assert response.status_code == 302


def test_nothing_ticked_or_no_kind_of_data_is_a_field_error(old):
    p = old
    client = sv(p.client(p.alice))
    response = client.post(START, form([]))
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    response = client.post(START, form([p.old[0].pk], categories=[]))
    assert response.status_code == 400 and 'id="id_categories_error"' in response.content.decode()
    response = client.post(START, {**form([p.old[0].pk]), "customer": ["x"]})
    assert response.status_code == 400
    with tenant_context(p.tenant_a):
        assert not AnonymizationRun.objects.exists()


def test_staff_and_employees_cannot_start_one(old):
    p = old
    for user in (p.bob, p.erik):
        assert sv(p.client(user)).post(START, form([p.old[0].pk])).status_code == 403
    with tenant_context(p.tenant_a):
        assert not AnonymizationRun.objects.exists()


def test_a_blocked_customer_alone_is_refused_with_its_reason(old):
    p = old
    with tenant_context(p.tenant_a):
        held = p.old[0]
        legal_hold_set(customer=held, reason="Tvist", actor=SYSTEM)
        owing = p.old[1]
        document(owing, "invoice", status="open", balance="10.00")
        for c in (held, owing):
            with pytest.raises(ValidationError) as refused:
                runs.anonymization_run_start(
                    customer_ids=[c.pk], actor=SYSTEM, source=RunSource.CARD
                )
            assert "may not be anonymized" in str(refused.value)
        assert not AnonymizationRun.objects.exists()


def test_each_customer_is_checked_again_when_its_chunk_runs(old):
    p = old
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[c.pk for c in p.old], actor=SYSTEM, source=RunSource.PAGE
        )
        # After ticking: one bought something, one was put on hold.
        document(p.old[1], "invoice", status="open", balance="99.00", day=dt.date.today())
        legal_hold_set(customer=p.old[2], reason="Revision", actor=SYSTEM)
        work(run.pk, limit=2)
        run.refresh_from_db()
        assert (run.anonymized, run.skipped, run.status) == (3, 2, RunStatus.DONE)
        reasons = dict(
            AnonymizationRunItem.objects.filter(run=run).values_list("customer_id", "reason")
        )
        assert reasons[p.old[1].pk] == "open_documents"
        assert reasons[p.old[2].pk] == "legal_hold"
        assert Customer.objects.get(pk=p.old[2].pk).status == CustomerStatus.ACTIVE
    page = p.client(p.alice).get(f"/anonymization/runs/{run.pk}/").content.decode()
    assert 'id="run-skipped-reasons"' in page


def test_chunks_are_exact_and_a_second_pass_changes_nothing(old):
    p = old
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[c.pk for c in p.old], actor=SYSTEM, source=RunSource.PAGE
        )
        assert work(run.pk, limit=2) == 4  # 2 + 2 + 1, then the free-text scan
        run.refresh_from_db()
        assert (run.anonymized, run.skipped) == (5, 0)
        chunks = AuditEvent.objects.filter(action="anonymization.chunk").count()
        # A redelivered task after the end: nothing to do, nothing recorded twice.
        assert runs.anonymization_run_chunk(run_id=run.pk) is False
        run.refresh_from_db()
        assert (run.anonymized, run.skipped) == (5, 0)
        assert AuditEvent.objects.filter(action="anonymization.chunk").count() == chunks
        assert not AnonymizationRunItem.objects.filter(outcome=ItemOutcome.PENDING).exists()


def test_a_deselected_kind_of_data_stays(old):
    p = old
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[p.old[0].pk],
            actor=SYSTEM,
            source=RunSource.PAGE,
            categories=ALL_CATEGORIES - {NAME},
        )
        work(run.pk)
        c = Customer.objects.get(pk=p.old[0].pk)
        assert c.name == "Gammal 0 AB"
        assert c.email == ""


def test_all_that_match_the_filter(old):
    p = old
    with tenant_context(p.tenant_a):
        prospect = customer("Prospekt AB", last=OLD)
        document(prospect, "quote")
    response = sv(p.client(p.alice)).post(START, form([], all_matching="on", show="prospects"))
    assert response.status_code == 302
    with tenant_context(p.tenant_a):
        run = AnonymizationRun.objects.get()
        assert list(run.items.values_list("customer_id", flat=True)) == [prospect.pk]


def test_another_tenants_customers_and_runs_do_not_exist(old):
    p = old
    with tenant_context(p.tenant_b), pytest.raises(ValidationError):
        runs.anonymization_run_start(
            customer_ids=[c.pk for c in p.old], actor=SYSTEM, source=RunSource.PAGE
        )
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[p.old[0].pk, p.other.pk], actor=SYSTEM, source=RunSource.PAGE
        )
        assert run.total == 1
    assert p.client(p.charlie).get(f"/anonymization/runs/{run.pk}/").status_code == 404
    assert (
        f'id="run-{run.pk}"' not in p.client(p.charlie).get("/anonymization/runs/").content.decode()
    )
    api_b = p.api(p.key_b)
    assert api_b.get(f"/api/v1/anonymization-runs/{run.pk}/").status_code == 404
    assert api_b.get("/api/v1/anonymization-runs/").json()["results"] == []
    with tenant_context(p.tenant_b):
        assert Customer.objects.get(pk=p.other.pk).status == CustomerStatus.ACTIVE


def test_the_api_lists_runs_with_counts_and_no_personal_data(old):
    p = old
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[p.old[0].pk], actor=SYSTEM, source=RunSource.PAGE, note="Gallring"
        )
        work(run.pk)
    api = p.api(p.key_a)
    rows = api.get("/api/v1/anonymization-runs/").json()["results"]
    assert [r["id"] for r in rows] == [run.pk]
    detail = api.get(f"/api/v1/anonymization-runs/{run.pk}/").json()
    assert (detail["status"], detail["anonymized"], detail["total"]) == ("done", 1, 1)
    assert sorted(detail["categories"]) == sorted(ALL_CATEGORIES)
    assert "Gammal" not in str(detail) and "example.test" not in str(detail)


def test_the_command_anonymizes_and_prints_the_run(old):
    p = old
    out = StringIO()
    call_command(
        "anonymize",
        "--tenant", p.tenant_a.slug,
        "--customer", str(p.old[0].pk),
        "--customer", str(p.old[1].pk),
        "--note", "Begäran om radering",
        "--yes",
        stdout=out,
        stderr=StringIO(),
    )  # fmt: skip
    last = out.getvalue().splitlines()[-1]
    with tenant_context(p.tenant_a):
        run = AnonymizationRun.objects.get()
        assert run.source == RunSource.COMMAND
    assert last == f"run={run.pk} anonymized=2 skipped=0"
    with pytest.raises(CommandError, match="--yes"):
        call_command("anonymize", "--tenant", p.tenant_a.slug, "--eligible", "--note", "x")
    out = StringIO()
    call_command(
        "anonymize", "--tenant", p.tenant_a.slug, "--eligible", "--note", "Alla", "--yes",
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert out.getvalue().splitlines()[-1].endswith("anonymized=3 skipped=0")


def test_the_sweep_resumes_a_run_whose_task_was_lost(old):
    p = old
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[c.pk for c in p.old], actor=SYSTEM, source=RunSource.PAGE
        )
        AnonymizationRun.objects.filter(pk=run.pk).update(
            created_at=run.created_at - timedelta(minutes=10)
        )
        assert runs.anonymization_runs_resume(stalled_after=timedelta(minutes=5)) == 1
        # Just resumed: not again at once.
        assert runs.anonymization_runs_resume(stalled_after=timedelta(minutes=5)) == 0


@override_settings(ANONYMIZATION_CHUNK_SIZE=2)
def test_a_real_worker_runs_it_in_chunks(live_personas, celery_worker):
    from tests.notifications.conftest import wait_for

    p = live_personas
    with tenant_context(p.tenant_a):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        ids = [customer(f"Gammal {n} AB", last=OLD).pk for n in range(5)]
    with tenant_context(p.tenant_a):  # commits on exit: the task is sent then
        run = runs.anonymization_run_start(customer_ids=ids, actor=SYSTEM, source=RunSource.PAGE)

    def done():
        with tenant_context(p.tenant_a):
            return AnonymizationRun.objects.get(pk=run.pk).status == RunStatus.DONE

    assert wait_for(done, timeout=60)
    with tenant_context(p.tenant_a):
        run.refresh_from_db()
        assert (run.anonymized, run.skipped) == (5, 0)
        assert AuditEvent.objects.filter(action="anonymization.chunk").count() == 3


def test_the_erasure_report_in_json_and_pdf(old):
    p = old
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[c.pk for c in p.old[:2]], actor=SYSTEM, source=RunSource.PAGE
        )
        running = run.pk
    client = p.client(p.bea)
    # Not finished: no report yet.
    assert client.get(f"/anonymization/runs/{running}/report.json").status_code == 404
    with tenant_context(p.tenant_a):
        work(run.pk)
    response = client.get(f"/anonymization/runs/{run.pk}/report.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = response.json()
    assert data["customers"] == {"total": 2, "anonymized": 2, "skipped": 0}
    assert data["rows_by_category"] and data["rows_by_model"]
    assert data["audit_chain"]["verified"] is True
    actions = [e["action"] for e in data["audit_entries"]]
    assert actions[0] == "anonymization.run_started" and actions[-1] == "anonymization.run_finished"
    assert "anonymization.chunk" in actions
    text = response.content.decode()
    assert "Gammal" not in text and "example.test" not in text
    pdf = client.get(f"/anonymization/runs/{run.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    page = client.get(f"/anonymization/runs/{run.pk}/").content.decode()
    assert 'id="run-report"' in page
    assert p.client(p.charlie).get(f"/anonymization/runs/{run.pk}/report.pdf").status_code == 404


# --- From the customer card (Avance's manual way) ---------------------------------------------


def card_post(client, pk, **fields):
    data = {
        "anonymize-categories": sorted(ALL_CATEGORIES),
        "anonymize-phrase": "Jag förstår anonymisering",
        "anonymize-note": "",
        **fields,
    }
    return client.post(f"/anonymization/customers/{pk}/anonymize/", data)


def test_the_card_shows_when_and_anonymizes_one_customer(old):
    p = old
    client = sv(p.client(p.alice))
    target = p.old[0]
    card = client.get(f"/customers/{target.pk}/").content.decode()
    assert 'id="anonymize"' in card and f"/anonymization/customers/{target.pk}/anonymize/" in card
    response = card_post(client, target.pk)
    assert response.status_code == 302
    with tenant_context(p.tenant_a):
        run = AnonymizationRun.objects.get()
        assert (run.source, run.total) == (RunSource.CARD, 1)
        work(run.pk)
        assert Customer.objects.get(pk=target.pk).status == CustomerStatus.ANONYMIZED
    card = client.get(f"/customers/{target.pk}/").content.decode()
    assert 'id="anonymize-state">Kunden är anonymiserad.<' in card


def test_the_card_refuses_a_blocked_customer_and_a_wrong_phrase(old):
    p = old
    client = sv(p.client(p.alice))
    with tenant_context(p.tenant_a):
        held = p.old[0]
        legal_hold_set(customer=held, reason="Tvist", actor=SYSTEM)
        active = customer("Ny Kund AB")
    card = client.get(f"/customers/{held.pk}/").content.decode()
    assert f"/anonymization/customers/{held.pk}/anonymize/" not in card  # no button
    assert "legal hold" in card.lower() or "rättslig" in card.lower() or 'class="reasons"' in card
    response = card_post(client, held.pk)
    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    response = card_post(client, active.pk)
    assert 'class="errorlist"' in response.content.decode()
    response = card_post(client, p.old[1].pk, **{"anonymize-phrase": "I understand anonymization"})
    assert 'id="id_anonymize-phrase_error"' in response.content.decode()
    with tenant_context(p.tenant_a):
        assert not AnonymizationRun.objects.exists()
    # Staff, employees: no panel and 403; another tenant: 404.
    assert (
        'id="anonymize"' not in sv(p.client(p.bob)).get(f"/customers/{held.pk}/").content.decode()
    )
    assert card_post(sv(p.client(p.bob)), p.old[1].pk).status_code == 403
    assert card_post(sv(p.client(p.charlie)), p.old[1].pk).status_code == 404


def _note(about, body: str):
    from customers.models import Activity

    return Activity.objects.create(customer=about, kind="note", subject="Möte", body=body)


def test_free_text_elsewhere_is_redacted_once_after_the_last_chunk(old):
    from anonymization.models import ErasureNeedle
    from customers.models import Activity

    p = old
    with tenant_context(p.tenant_a):
        today = customer("Nu AB", email="nu@example.test")
        note = _note(today, "Pratade med gammal 0 ab (g0@example.test) och Gammal 4 AB:s vd.")
        run = runs.anonymization_run_start(
            customer_ids=[c.pk for c in p.old], actor=SYSTEM, source=RunSource.PAGE
        )
        assert runs.anonymization_run_chunk(run_id=run.pk, limit=2)
        # The chunk noted whom to look for; the text is searched once, at the end.
        assert ErasureNeedle.objects.filter(batch=f"run:{run.pk}").exists()
        assert Activity.objects.get(pk=note.pk).body == note.body
        work(run.pk, limit=2)
        assert Activity.objects.get(pk=note.pk).body == "Pratade med […] ([…]) och […]:s vd."
        assert not ErasureNeedle.objects.exists()
        run.refresh_from_db()
        assert run.status == RunStatus.DONE
        assert run.counts["redacted"] == {"customers.Activity": 1}
        scanned = AuditEvent.objects.get(action="anonymization.scanned")
        assert scanned.data == {"redacted": {"customers.Activity": 1}, "residue": []}
        assert "Gammal" not in str(scanned.data)


def test_the_runs_own_notes_stay_when_notes_are_deselected(old):
    from anonymization.registry import NOTES_FILES
    from customers.models import Activity

    p = old
    with tenant_context(p.tenant_a):
        own = _note(p.old[0], "Gammal 0 AB ringde.")
        run = runs.anonymization_run_start(
            customer_ids=[p.old[0].pk],
            actor=SYSTEM,
            source=RunSource.PAGE,
            categories=ALL_CATEGORIES - {NOTES_FILES},
        )
        work(run.pk)
        assert Activity.objects.get(pk=own.pk).body == "Gammal 0 AB ringde."


def test_a_stopped_run_forgets_whom_it_was_looking_for(old):
    from anonymization.models import ErasureNeedle

    p = old
    with tenant_context(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[c.pk for c in p.old], actor=SYSTEM, source=RunSource.PAGE
        )
        runs.anonymization_run_chunk(run_id=run.pk, limit=2)
        assert ErasureNeedle.objects.exists()
        assert runs.anonymization_run_stop(run_id=run.pk, reason="test")
        assert not ErasureNeedle.objects.exists()
