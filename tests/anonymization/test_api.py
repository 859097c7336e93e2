"""The eligibility API and the ``eligibility`` command: the page's selector, answered to an
integrator and an operator; scope ``anonymization:read``; another tenant's customers absent."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from anonymization.models import RetentionPolicy
from anonymization.services import legal_hold_set
from audit.actors import Actor
from tenancy.context import tenant_context
from tenancy.services import api_key_create
from tests.anonymization.test_eligibility import customer, document

LIST = "/api/v1/eligibility/"
OLD = dt.date(2015, 3, 1)


def detail(pk) -> str:
    return f"/api/v1/customers/{pk}/eligibility/"


@pytest.fixture
def world(personas):
    """A: an eligible customer, an eligible prospect, one blocked by an open invoice and a
    hold, one waiting; B: an eligible customer."""
    with tenant_context(personas.tenant_a):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        personas.old = customer("Gammal AB", last=OLD)
        personas.prospect = customer("Prospekt AB", last=OLD)
        document(personas.prospect, "quote")
        personas.blocked = customer("Tvist AB", last=OLD)
        document(personas.blocked, "invoice", status="open", balance="120.00")
        legal_hold_set(customer=personas.blocked, reason="Tvist", actor=Actor.system("tests"))
        personas.active = customer("Aktiv AB", last=timezone.localdate())
    with tenant_context(personas.tenant_b):
        personas.other = customer("Fjordvik AS", last=OLD)
    return personas


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["customer"] for row in response.json()["results"]]


def test_eligible_and_blocked_lists(world):
    p = world
    api = p.api(p.key_a)
    assert sorted(ids(api.get(LIST, {"state": "eligible"}))) == sorted([p.old.pk, p.prospect.pk])
    assert ids(api.get(LIST, {"state": "eligible", "prospects": "true"})) == [p.prospect.pk]
    assert ids(api.get(LIST, {"state": "eligible", "prospects": "false"})) == [p.old.pk]
    blocked = api.get(LIST, {"state": "blocked"}).json()["results"]
    assert [row["customer"] for row in blocked] == [p.blocked.pk]
    assert blocked[0]["eligible"] is False
    assert set(blocked[0]["blockers"]) == {"open_documents", "balance", "legal_hold"}


def test_detail_names_the_date_the_period_and_every_reason(world):
    p = world
    api = p.api(p.key_a)
    old = api.get(detail(p.old.pk)).json()
    # Last activity 2015-03-01, calendar fiscal year, 5 years: kept through 2020-12-31.
    assert old["period_ends_on"] == "2020-12-31"
    assert old["eligible_on"] == "2021-01-01"
    assert old["eligible"] is True and old["blockers"] == []
    assert old["retention_years"] == 5 and old["period_source"] == "customers"
    prospect = api.get(detail(p.prospect.pk)).json()
    assert prospect["is_prospect"] is True and prospect["retention_years"] == 2
    assert prospect["period_source"] == "prospects"
    active = api.get(detail(p.active.pk)).json()
    assert active["eligible"] is False and active["blockers"] == ["inside_period"]


def test_another_tenants_customer_is_404_and_absent_from_lists(world):
    p = world
    api_b = p.api(p.key_b)
    response = api_b.get(detail(p.old.pk))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert ids(api_b.get(LIST, {"state": "eligible"})) == [p.other.pk]
    assert ids(api_b.get(LIST, {"state": "blocked"})) == []


@pytest.mark.parametrize(
    "query", [{}, {"state": "everyone"}, {"state": "eligible", "prospects": "kanske"}]
)
def test_bad_query_is_a_problem_naming_the_parameter(world, query):
    p = world
    response = p.api(p.key_a).get(LIST, query)
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"prospects" if "prospects" in query else "state"}


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "99999999999999999999"])
def test_a_path_that_cannot_be_a_customer_is_404(world, raw):
    p = world
    assert p.api(p.key_a).get(detail(raw)).status_code == 404


def test_a_key_without_anonymization_read_is_refused(world):
    p = world
    with tenant_context(p.tenant_a):
        _key, raw = api_key_create(
            name="Kassa", scopes=["customers:read"], actor=Actor.system("tests")
        )
    assert p.api(raw).get(LIST, {"state": "eligible"}).status_code == 403
    assert p.api(raw).get(detail(p.old.pk)).status_code == 403


def run(*args) -> list[str]:
    out = StringIO()
    call_command("eligibility", *args, stdout=out)
    return out.getvalue().splitlines()


def test_command_counts_and_lists(world):
    p = world
    lines = run("--tenant", p.tenant_a.slug)
    assert lines[-1].endswith("2 eligible, 1 blocked, 1 waiting for their retention period.")
    lines = run("--tenant", p.tenant_a.slug, "--list", "blocked")
    row = lines[0].split("\t")
    assert row[0] == str(p.blocked.pk)
    assert set(row[4].split(",")) == {"open_documents", "balance", "legal_hold"}
    lines = run("--tenant", p.tenant_a.slug, "--prospects", "--list", "eligible")
    assert [line.split("\t")[0] for line in lines[:-1]] == [str(p.prospect.pk)]
    assert lines[-1].endswith("1 eligible, 0 blocked.")


def test_command_shows_one_customer_and_refuses_another_tenants(world):
    p = world
    lines = run("--tenant", p.tenant_a.slug, "--customer", str(p.active.pk))
    assert lines[0].split("\t")[4] == "inside_period"
    with pytest.raises(CommandError):
        run("--tenant", p.tenant_a.slug, "--customer", str(p.other.pk))
    with pytest.raises(CommandError):
        run("--tenant", "nobody")
