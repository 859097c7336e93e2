"""Every export is one path (issue 11, item 3): small files stream at once, big ones run as
an export job whose file lives under the tenant's storage prefix, is downloaded only by
its creator, and expires. The customer list's and the consent batch's exports use it too."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from consent.batches import consent_batch_chunk, consent_batch_start
from consent.services import consent_terms_publish
from customers.services.addresses import address_add
from customers.services.selections import selection_add
from reports import jobs
from reports.models import ExportJob, ExportStatus
from tenancy.context import tenant_context, tenant_scope
from tests.factories import make_customer

SYSTEM = Actor.system("test")
PHONES = {"report": "phones"}


@pytest.fixture
def world(personas):
    with tenant_context(personas.tenant_a):
        for name in ("Åsa Lind", "Björn Ek", "Örjan Nyström"):
            make_customer(name=name, phone="08-123 45 67")
    with tenant_context(personas.tenant_b):
        make_customer(name="Fjordvik Kunde AS", country="NO")
    return personas


@pytest.fixture
def small_threshold(settings):
    settings.REPORTS_EXPORT_INLINE_MAX_ROWS = 1


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _start(client, url="/reports/export/csv/", params=PHONES) -> ExportJob:
    response = client.get(url, params)
    assert response.status_code == 302, response
    pk = int(response["Location"].rstrip("/").split("/")[-1])
    assert "/reports/exports/" in response["Location"]
    return pk


def _run(p, pk: int, tenant=None) -> ExportJob:
    tenant = tenant or p.tenant_a
    with tenant_scope(tenant):
        assert jobs.export_job_run(job_id=pk) == "done"
    with tenant_context(tenant):
        return ExportJob.objects.get(pk=pk)


def _file(job: ExportJob) -> bytes:
    with default_storage.open(job.file, "rb") as f:
        return f.read()


# --- inline or job ----------------------------------------------------------------------


def test_below_the_threshold_the_file_streams_at_once(world):
    response = world.client(world.bob).get("/reports/export/csv/", PHONES)
    assert response.status_code == 200 and response.streaming
    names = [r[1] for r in _rows(_content(response))[1:]]
    assert sorted(names) == ["Björn Ek", "Åsa Lind", "Örjan Nyström"]
    with tenant_context(world.tenant_a):
        assert not ExportJob.objects.exists()


def test_above_the_threshold_a_job_is_started(world, small_threshold):
    pk = _start(world.client(world.bob), params={**PHONES, "q": "", "sort": "name"})
    with tenant_context(world.tenant_a):
        job = ExportJob.objects.get(pk=pk)
    assert (job.source, job.report, job.format, job.status) == ("report", "phones", "csv", "queued")
    assert job.created_by == world.bob and job.total == 3 and job.rows_written == 0
    assert job.criteria == {"report": ["phones"], "sort": ["name"]}


def test_the_job_writes_the_file_under_the_tenants_prefix_and_audits(world, small_threshold):
    pk = _start(world.client(world.bob))
    job = _run(world, pk)
    assert job.status == ExportStatus.DONE
    assert job.file.startswith(f"tenants/{world.tenant_a.pk}/exports/") and job.file.endswith(
        ".csv"
    )
    assert job.rows_written == 3 and job.percent == 100
    assert job.criteria == {}  # a search text may be a name: gone when the job ends
    expected = timezone.now() + timedelta(hours=24)
    assert abs((job.expires_at - expected).total_seconds()) < 60
    assert job.download_name.startswith("phones-") and job.download_name.endswith(".csv")
    names = sorted(r[1] for r in _rows(_file(job))[1:])
    assert names == ["Björn Ek", "Åsa Lind", "Örjan Nyström"]
    with tenant_context(world.tenant_a):
        event = AuditEvent.objects.filter(action="reports.exported").latest("seq")
    assert event.data == {
        "report": "phones",
        "format": "csv",
        "count": 3,
        "complete": True,
        "filters": [],
    }
    default_storage.delete(job.file)


def test_an_xlsx_and_a_label_sheet_job(world, small_threshold):
    client = world.client(world.bob)
    job = _run(world, _start(client, "/reports/export/xlsx/"))
    sheet = openpyxl.load_workbook(io.BytesIO(_file(job))).active
    assert sheet.max_row == 4 and sheet.freeze_panes == "A2"
    labels = _run(world, _start(client, "/reports/export/labels/"))
    assert _file(labels).startswith(b"%PDF") and labels.rows_written == 3
    for done in (job, labels):
        default_storage.delete(done.file)


def test_progress_is_committed_as_rows_are_written(world, small_threshold, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 2)
    pk = _start(world.client(world.bob))
    with tenant_context(world.tenant_a):
        ExportJob.objects.filter(pk=pk).update(status=ExportStatus.RUNNING)
        counter = jobs._Progress(pk)
        for _ in range(3):
            counter[0] += 1
        job = ExportJob.objects.get(pk=pk)
    assert job.rows_written == 2 and job.percent == 66


def test_the_progress_page_polls_and_works_without_javascript(world, small_threshold):
    client = world.client(world.bob)
    pk = _start(client)
    html = client.get(f"/reports/exports/{pk}/").content.decode()
    assert '<progress id="export-bar' in html and 'hx-trigger="every 2s"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "0 rows written (3 customers)" in html and "export-download" not in html
    job = _run(world, pk)
    partial = client.get(f"/reports/exports/{pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial and "<html" not in partial
    assert "3 rows written (3 customers)" in partial and 'value="100"' in partial
    assert f"/reports/exports/{pk}/download/" in partial
    reports_page = client.get("/reports/").content.decode()
    assert "My exports" in reports_page and f"/reports/exports/{pk}/" in reports_page
    default_storage.delete(job.file)


# --- who may download -------------------------------------------------------------------


def test_only_its_creator_downloads_the_file(world, small_threshold):
    pk = _start(world.client(world.bob))
    job = _run(world, pk)
    response = world.client(world.bob).get(f"/reports/exports/{pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]
    assert len(_rows(_content(response))) == 4
    # Another user of the same company, and another company: nothing there.
    for user in (world.alice, world.charlie):
        client = world.client(user)
        assert client.get(f"/reports/exports/{pk}/").status_code == 404
        assert client.get(f"/reports/exports/{pk}/download/").status_code == 404
    assert "My exports" not in world.client(world.alice).get("/reports/").content.decode()
    # The employee may not export: no job page either.
    assert world.client(world.erik).get(f"/reports/exports/{pk}/").status_code == 404
    default_storage.delete(job.file)


def test_an_unfinished_job_redirects_the_download_to_its_page(world, small_threshold):
    pk = _start(world.client(world.bob))
    response = world.client(world.bob).get(f"/reports/exports/{pk}/download/")
    assert response.status_code == 302 and response["Location"].endswith(f"/reports/exports/{pk}/")


def test_an_expired_link_is_gone_and_the_sweep_deletes_the_file(world, small_threshold):
    pk = _start(world.client(world.bob))
    job = _run(world, pk)
    assert default_storage.exists(job.file)
    with tenant_context(world.tenant_a):
        ExportJob.objects.filter(pk=pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = world.client(world.bob)
    response = client.get(f"/reports/exports/{pk}/download/")
    assert response.status_code == 410
    assert "This export has expired" in response.content.decode()
    with tenant_scope(world.tenant_a):
        assert jobs.export_jobs_sweep()["expired"] == 1
    with tenant_context(world.tenant_a):
        swept = ExportJob.objects.get(pk=pk)
    assert swept.status == ExportStatus.EXPIRED and swept.file == ""
    assert not default_storage.exists(job.file)
    assert client.get(f"/reports/exports/{pk}/download/").status_code == 410
    assert "This export has expired" in client.get(f"/reports/exports/{pk}/").content.decode()


def test_a_stalled_job_is_sent_again_then_failed(world, small_threshold, settings):
    pk = _start(world.client(world.bob))
    long_ago = timezone.now() - timedelta(seconds=settings.REPORTS_EXPORT_STALL_SECONDS + 5)
    with tenant_context(world.tenant_a):
        ExportJob.objects.filter(pk=pk).update(
            status=ExportStatus.RUNNING, attempts=1, worked_at=long_ago
        )
    with tenant_scope(world.tenant_a):
        assert jobs.export_jobs_sweep()["requeued"] == 1
    with tenant_context(world.tenant_a):
        assert ExportJob.objects.get(pk=pk).status == ExportStatus.QUEUED
        ExportJob.objects.filter(pk=pk).update(
            status=ExportStatus.RUNNING, attempts=jobs.MAX_ATTEMPTS, worked_at=long_ago
        )
    with tenant_scope(world.tenant_a):
        assert jobs.export_jobs_sweep()["failed"] == 1
    with tenant_context(world.tenant_a):
        job = ExportJob.objects.get(pk=pk)
    assert job.status == ExportStatus.FAILED and job.criteria == {}
    page = world.client(world.bob).get(f"/reports/exports/{pk}/").content.decode()
    assert "could not be finished" in page


def test_bad_criteria_or_format_never_start_a_job(world, small_threshold):
    client = world.client(world.bob)
    assert client.get("/reports/export/csv/", {"report": "nope"}).status_code == 400
    assert client.get("/reports/export/doc/", PHONES).status_code == 404
    response = client.get("/customers/export/csv/", {"last_activity_before": "abc"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()
    with tenant_context(world.tenant_a):
        assert not ExportJob.objects.exists()


# --- the customer list, the own selection, the consent batch ---------------------------------


def test_the_customer_list_export_goes_through_the_job(world, small_threshold):
    client = world.client(world.bob)
    pk = _start(client, "/customers/export/xlsx/", {"q": "", "sort": "number"})
    job = _run(world, pk)
    assert (job.source, job.format, job.rows_written) == ("customers", "xlsx", 3)
    rows = list(openpyxl.load_workbook(io.BytesIO(_file(job))).active.values)
    assert rows[0][:2] == ("Customer number", "Name") and len(rows) == 4
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])
    with tenant_context(world.tenant_a):
        event = AuditEvent.objects.filter(action="customers.exported").latest("seq")
    assert event.data == {"format": "xlsx", "source": "list", "count": 3}
    default_storage.delete(job.file)


def test_the_own_selection_export_goes_through_the_job(world, small_threshold):
    with tenant_context(world.tenant_a):
        from customers.models import Customer

        selection_add(user=world.bob, customers=list(Customer.objects.all()[:2]))
    pk = _start(world.client(world.bob), "/customers/selection/export/csv/", {})
    job = _run(world, pk)
    assert job.source == "selection" and len(_rows(_file(job))) == 3
    default_storage.delete(job.file)


def test_the_consent_batch_export_goes_through_the_job(world, small_threshold):
    with tenant_context(world.tenant_a):
        consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=SYSTEM)
        neither = make_customer(name="Cilla Brev", language="sv")
        other = make_customer(name="Dan Brev", language="sv")
        address_add(customer=neither, actor=SYSTEM, line1="Storgatan 1", city="Luleå")
        batch = consent_batch_start(
            customer_ids=[neither.pk, other.pk], channel="email", source="search", actor=SYSTEM
        )
        consent_batch_chunk(batch_id=batch.pk)
    url = f"/consent/batches/{batch.pk}/unreachable/export/csv/"
    pk = _start(world.client(world.bob), url, {})
    job = _run(world, pk)
    rows = _rows(_file(job))
    assert rows[0][-1] == "Reason" and {r[1] for r in rows[1:]} == {"Cilla Brev", "Dan Brev"}
    with tenant_context(world.tenant_a):
        event = AuditEvent.objects.filter(action="consent.batch_unreachable_exported").latest("seq")
    assert event.data == {"format": "csv", "count": 2}
    assert world.client(world.charlie).get(url).status_code == 404
    default_storage.delete(job.file)


# --- isolation in the database ------------------------------------------------------------


def test_row_security_keeps_export_jobs_apart(world, small_threshold):
    a = _start(world.client(world.bob))
    with tenant_context(world.tenant_b):
        b = ExportJob.objects.create(
            source="report", report="phones", format="csv", created_by=world.charlie
        ).pk
    with tenant_context(world.tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM reports_exportjob")
        assert {row[0] for row in cursor.fetchall()} == {a}
    with tenant_context(world.tenant_b), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM reports_exportjob")
        assert {row[0] for row in cursor.fetchall()} == {b}
    with connection.cursor() as cursor:  # no tenant: no rows
        cursor.execute("SELECT count(*) FROM reports_exportjob")
        assert cursor.fetchone()[0] == 0


# --- a real worker ------------------------------------------------------------------------


def test_a_real_worker_runs_the_job_to_its_download(live_personas, celery_worker, settings):
    settings.REPORTS_EXPORT_INLINE_MAX_ROWS = 1
    p = live_personas
    with tenant_context(p.tenant_a):
        for name in ("Åsa Lind", "Björn Ek"):
            make_customer(name=name, phone="08-123 45 67")
    client = p.client(p.bob)
    pk = _start(client)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with tenant_context(p.tenant_a):
            job = ExportJob.objects.get(pk=pk)
        if not job.active:
            break
        time.sleep(0.2)
    assert job.status == ExportStatus.DONE, job.error
    response = client.get(f"/reports/exports/{pk}/download/")
    names = sorted(r[1] for r in _rows(_content(response))[1:])
    assert names == ["Björn Ek", "Åsa Lind"]
    default_storage.delete(job.file)
