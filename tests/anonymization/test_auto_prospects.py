"""Automatic anonymization of eligible prospects (issue 10 item 6): off by default; when a
tenant turns it on, the daily beat task starts one audited run of exactly its eligible
prospects (never customers, never blocked ones), none while the last one still runs and
none when nobody is eligible; another tenant is untouched; the settings page toggles it
and audits old and new values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from anonymization import runs
from anonymization.auto import AUTO_ACTOR, AUTO_NOTE
from anonymization.models import (
    AnonymizationRun,
    AnonymizationRunItem,
    RetentionPolicy,
    RunSource,
    RunStatus,
)
from anonymization.registry import ALL_CATEGORIES
from anonymization.selectors import retention_policy
from anonymization.services import legal_hold_set
from anonymization.tasks import auto_prospects
from audit.actors import Actor
from audit.models import ActorType, AuditEvent
from customers.models import Customer, CustomerStatus
from tenancy.context import tenant_context
from tests.anonymization.test_eligibility import customer, document

OLD = dt.date(2015, 3, 1)
SYSTEM = Actor.system("tests")
URL = "/settings/retention/"


def prospect(name: str, *, last=OLD) -> Customer:
    """Only ever got a quote."""
    c = customer(name, last=last)
    document(c, "quote")
    return c


@pytest.fixture
def world(personas):
    """Tenant A: two eligible prospects, an eligible customer, a prospect on legal hold and
    a recent prospect. Tenant B (automatic anonymization off): an eligible prospect."""
    p = personas
    with tenant_context(p.tenant_a):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        p.prospects = [prospect("Offert Ett AB"), prospect("Offert Två AB")]
        p.buyer = customer("Köpare AB", last=OLD)
        document(p.buyer, "invoice")
        p.held = prospect("Tvist AB")
        legal_hold_set(customer=p.held, reason="Tvist", actor=SYSTEM)
        p.recent = prospect("Ny Offert AB", last=dt.date.today())
    with tenant_context(p.tenant_b):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        p.other = prospect("Fjord Tilbud AS")
    return p


def turn_on(tenant, on: bool = True) -> None:
    with tenant_context(tenant):
        RetentionPolicy.objects.filter(tenant=tenant).update(auto_anonymize_prospects=on)


def work(run_id: int) -> None:
    while runs.anonymization_run_chunk(run_id=run_id):
        pass


def test_off_by_default_nothing_happens(world):
    p = world
    with tenant_context(p.tenant_a):
        assert RetentionPolicy.objects.get().auto_anonymize_prospects is False
        assert retention_policy().auto_anonymize_prospects is False
    assert auto_prospects() == 0
    for tenant in (p.tenant_a, p.tenant_b):
        with tenant_context(tenant):
            assert not AnonymizationRun.objects.exists()
            assert not Customer.objects.filter(status=CustomerStatus.ANONYMIZED).exists()


def test_a_tenant_without_saved_settings_is_off(personas):
    with tenant_context(personas.tenant_a):
        prospect("Offert AB")
        assert not RetentionPolicy.objects.exists()
    assert auto_prospects() == 0
    with tenant_context(personas.tenant_a):
        assert not AnonymizationRun.objects.exists()


def test_on_starts_one_audited_run_of_exactly_the_eligible_prospects(world):
    p = world
    turn_on(p.tenant_a)
    assert auto_prospects() == 1
    with tenant_context(p.tenant_a):
        run = AnonymizationRun.objects.get()
        assert (run.source, run.status, run.total) == (RunSource.SCHEDULE, RunStatus.QUEUED, 2)
        assert (run.actor_type, run.actor_id, run.created_by) == (
            ActorType.SYSTEM,
            AUTO_ACTOR,
            None,
        )
        assert set(run.categories) == ALL_CATEGORIES
        with translation.override(p.tenant_a.default_language):
            assert run.note == str(AUTO_NOTE)
        items = set(AnonymizationRunItem.objects.values_list("customer_id", flat=True))
        assert items == {c.pk for c in p.prospects}
        started = AuditEvent.objects.get(action="anonymization.run_started")
        assert (started.actor_type, started.actor_id) == (ActorType.SYSTEM, AUTO_ACTOR)
        assert started.object_id == str(run.pk)
        assert started.data["source"] == RunSource.SCHEDULE and started.data["total"] == 2

        work(run.pk)
        run.refresh_from_db()
        assert (run.status, run.anonymized, run.skipped) == (RunStatus.DONE, 2, 0)
        status = dict(Customer.objects.values_list("pk", "status"))
        assert {status[c.pk] for c in p.prospects} == {CustomerStatus.ANONYMIZED}
        for kept in (p.buyer, p.held, p.recent):
            assert status[kept.pk] == CustomerStatus.ACTIVE
        finished = AuditEvent.objects.get(action="anonymization.run_finished")
        assert finished.actor_id == AUTO_ACTOR and finished.data["anonymized"] == 2
    # The tenant with it off: untouched.
    with tenant_context(p.tenant_b):
        assert not AnonymizationRun.objects.exists()
        assert Customer.objects.get(pk=p.other.pk).status == CustomerStatus.ACTIVE
    # The next day nobody is eligible: no empty run.
    assert auto_prospects() == 0
    with tenant_context(p.tenant_a):
        assert AnonymizationRun.objects.count() == 1


def test_no_second_run_while_the_scheduled_one_is_under_way(world):
    p = world
    turn_on(p.tenant_a)
    assert auto_prospects() == 1
    with tenant_context(p.tenant_a):
        run = AnonymizationRun.objects.get()
    assert auto_prospects() == 0  # queued
    with tenant_context(p.tenant_a):
        runs.anonymization_run_chunk(run_id=run.pk, limit=1)
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING
    assert auto_prospects() == 0  # running
    with tenant_context(p.tenant_a):
        assert AnonymizationRun.objects.count() == 1
        work(run.pk)
        # A manual run under way does not hold the schedule back.
        manual = runs.anonymization_run_start(
            customer_ids=[p.buyer.pk], actor=SYSTEM, source=RunSource.PAGE
        )
        assert manual.status == RunStatus.QUEUED
        newcomer = prospect("Senare Offert AB")
    # Done: the next tick takes the prospects that became eligible since.
    assert auto_prospects() == 1
    with tenant_context(p.tenant_a):
        latest = AnonymizationRun.objects.filter(source=RunSource.SCHEDULE).latest("pk")
        assert latest.pk != run.pk
        assert list(latest.items.values_list("customer_id", flat=True)) == [newcomer.pk]


def test_each_tenant_by_its_own_setting(world):
    p = world
    turn_on(p.tenant_b)
    assert auto_prospects() == 1
    with tenant_context(p.tenant_a):
        assert not AnonymizationRun.objects.exists()
    with tenant_context(p.tenant_b):
        run = AnonymizationRun.objects.get()
        assert list(run.items.values_list("customer_id", flat=True)) == [p.other.pk]
        with translation.override(p.tenant_b.default_language):  # Norwegian
            assert run.note == str(AUTO_NOTE)


def test_the_beat_schedule_runs_it_daily():
    from celery.schedules import crontab

    from config.celery import app

    entry = app.conf.beat_schedule["anonymization-auto-prospects"]
    assert entry["task"] == "anonymization.auto_prospects" == auto_prospects.name
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {17}


def _form(**changes) -> dict:
    data = {
        "form": "settings",
        "customer_years": "5",
        "prospect_years": "2",
        "fiscal_year_end_month": "12",
        "fiscal_year_end_day": "31",
    }
    return {**data, **changes}


def test_the_settings_page_toggles_it_and_audits_old_and_new(world):
    p = world
    alice = p.client(p.alice)
    page = alice.get(URL)
    assert 'type="checkbox" name="auto_anonymize_prospects"' in page.content.decode()
    assert page.context["form"]["auto_anonymize_prospects"].value() is False
    assert alice.post(URL, _form(auto_anonymize_prospects="on")).status_code == 302
    with tenant_context(p.tenant_a):
        assert retention_policy().auto_anonymize_prospects is True
        event = AuditEvent.objects.get(action="retention.policy_changed")
        assert event.data["fields"] == ["auto_anonymize_prospects"]
        assert event.data["old"] == {"auto_anonymize_prospects": False}
        assert event.data["new"] == {"auto_anonymize_prospects": True}
        assert (event.actor_type, event.actor_id) == (ActorType.USER, str(p.alice.pk))
    assert alice.get(URL).context["form"]["auto_anonymize_prospects"].value() is True
    # Applying a preset keeps it; unticking turns it off, audited.
    assert alice.post(URL, {"form": "preset", "preset-country": "SE"}).status_code == 302
    with tenant_context(p.tenant_a):
        assert retention_policy().auto_anonymize_prospects is True
    assert alice.post(URL, _form()).status_code == 302
    with tenant_context(p.tenant_a):
        assert retention_policy().auto_anonymize_prospects is False
        last = AuditEvent.objects.filter(action="retention.policy_changed").latest("seq")
        assert "auto_anonymize_prospects" in last.data["fields"]
        assert last.data["old"]["auto_anonymize_prospects"] is True
        assert last.data["new"]["auto_anonymize_prospects"] is False
    # Another tenant's setting is its own.
    with tenant_context(p.tenant_b):
        assert retention_policy().auto_anonymize_prospects is False
