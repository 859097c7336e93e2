"""Concurrency and sync on the customers API (issue 12, item 5): ETag / If-None-Match /
If-Match on single objects, the ``updated_since`` and ``ids`` filters, byte-identical
idempotent replays, and the schema that says so."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.actors import Actor
from customers.models import Address, Customer
from customers.serializers import MAX_IDS
from customers.services.addresses import address_add
from tenancy.context import tenant_context
from tests.customers.api_helpers import PROBLEM, URL, errors, send
from tests.factories import make_customer


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [c["id"] for c in response.json()["results"]]


@pytest.fixture
def customer(in_a):
    with in_a():
        return make_customer(name="Etag Bygg AB", email="etag@example.test")


# ---------------------------------------------------------------------------
# ETag, If-None-Match, If-Match


def test_a_single_customer_has_a_strong_etag_and_answers_304_to_it(api_a, customer):
    url = f"{URL}{customer.pk}/"
    first = api_a.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert api_a.get(url)["ETag"] == etag  # stable while nothing changes
    again = api_a.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    # A weak form of the same tag, a list holding it, or "*" also match for a read.
    assert api_a.get(url, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert api_a.get(url, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert api_a.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_the_etag_changes_with_the_customer_and_with_its_head_office(api_a, in_a, customer):
    url = f"{URL}{customer.pk}/"
    before = api_a.get(url)["ETag"]
    send(api_a, "post", f"{url}addresses/", {"line1": "Storgatan 1", "city": "Lund"})
    with_address = api_a.get(url, HTTP_IF_NONE_MATCH=before)
    assert with_address.status_code == 200 and with_address["ETag"] != before
    changed = send(api_a, "patch", url, {"name": "Etag Bygg & Son AB"})
    assert changed["ETag"] not in (before, with_address["ETag"])
    assert api_a.get(url)["ETag"] == changed["ETag"]  # the PATCH answer's tag is the read's


def test_patch_with_the_current_if_match_applies(api_a, customer):
    url = f"{URL}{customer.pk}/"
    etag = api_a.get(url)["ETag"]
    response = send(api_a, "patch", url, {"name": "Nytt Namn AB"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Nytt Namn AB"
    assert response["ETag"] != etag
    # "*" matches any existing object.
    assert send(api_a, "patch", url, {"name": "Tredje AB"}, HTTP_IF_MATCH="*").status_code == 200


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(api_a, in_a, customer):
    url = f"{URL}{customer.pk}/"
    stale = api_a.get(url)["ETag"]
    assert send(api_a, "patch", url, {"name": "Först AB"}).status_code == 200  # someone else
    response = send(api_a, "patch", url, {"name": "Sist AB"}, HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/problems/precondition-failed")
    assert body["status"] == 412 and body["title"] and body["detail"]
    with in_a():
        assert Customer.objects.get(pk=customer.pk).name == "Först AB"
    # A weak tag never matches for a change (strong comparison).
    current = api_a.get(url)["ETag"]
    weak = send(api_a, "patch", url, {"name": "Svag AB"}, HTTP_IF_MATCH=f"W/{current}")
    assert weak.status_code == 412


def test_patch_without_if_match_still_applies(api_a, customer):
    """If-Match is optional (docs/api.md): clients that never read ETags keep working."""
    response = send(api_a, "patch", f"{URL}{customer.pk}/", {"name": "Utan Villkor AB"})
    assert response.status_code == 200 and response["ETag"]


def test_nested_objects_and_consent_requests_carry_etags_too(api_a, in_a, customer):
    address = send(
        api_a, "post", f"{URL}{customer.pk}/addresses/", {"line1": "Kyrkvägen 2", "city": "Ystad"}
    ).json()
    url = f"{URL}{customer.pk}/addresses/{address['id']}/"
    etag = api_a.get(url)["ETag"]
    assert api_a.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert send(api_a, "patch", url, {"city": "Malmö"}, HTTP_IF_MATCH='"stale"').status_code == 412
    assert send(api_a, "patch", url, {"city": "Malmö"}, HTTP_IF_MATCH=etag).status_code == 200
    with in_a():
        assert Address.objects.get(pk=address["id"]).city == "Malmö"


def test_another_tenants_customer_is_404_whatever_the_preconditions(api_b, customer):
    url = f"{URL}{customer.pk}/"
    assert api_b.get(url, HTTP_IF_NONE_MATCH="*").status_code == 404
    assert send(api_b, "patch", url, {"name": "x"}, HTTP_IF_MATCH="*").status_code == 404


# ---------------------------------------------------------------------------
# updated_since


def _age(in_a, customer, *, days: int) -> None:
    with in_a():
        Customer.objects.filter(pk=customer.pk).update(
            updated_at=timezone.now() - timedelta(days=days)
        )


def test_updated_since_lists_only_customers_changed_since(api_a, in_a):
    with in_a():
        old = make_customer(name="Gammal AB")
        new = make_customer(name="Ny AB")
        moved = make_customer(name="Flyttad AB")
        address_add(customer=moved, actor=Actor.system("tests"), line1="Ån 1", city="Umeå")
    for customer in (old, new, moved):
        _age(in_a, customer, days=10)
    with in_a():
        Customer.objects.filter(pk=new.pk).update(updated_at=timezone.now())
        Address.objects.filter(customer=moved).update(updated_at=timezone.now())
    since = quote((timezone.now() - timedelta(days=1)).isoformat())
    assert sorted(ids_of(api_a.get(f"{URL}?updated_since={since}"))) == sorted([new.pk, moved.pk])
    # UTC with Z, and a "+" that arrived as a space (not URL-encoded) mean the same.
    day_ago = timezone.now() - timedelta(days=1)
    zulu = day_ago.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sorted(ids_of(api_a.get(f"{URL}?updated_since={zulu}"))) == sorted([new.pk, moved.pk])
    plus = day_ago.astimezone(timezone.get_fixed_timezone(60)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    unencoded = api_a.get(f"{URL}?updated_since={plus}")  # "+" read as a space
    assert sorted(ids_of(unencoded)) == sorted([new.pk, moved.pk])


def test_updated_since_includes_inactive_customers_unless_narrowed(api_a, in_a):
    with in_a():
        gone = make_customer(name="Vilande AB")
        Customer.objects.filter(pk=gone.pk).update(status="inactive", updated_at=timezone.now())
    since = quote((timezone.now() - timedelta(hours=1)).isoformat())
    assert gone.pk in ids_of(api_a.get(f"{URL}?updated_since={since}"))
    assert gone.pk not in ids_of(api_a.get(f"{URL}?updated_since={since}&status=active"))


def test_updated_since_pages_in_a_stable_order(api_a, in_a):
    with in_a():
        made = [make_customer(name=f"Kund {i:02d} AB") for i in range(7)]
    since = quote((timezone.now() - timedelta(hours=1)).isoformat())
    seen, url = [], f"{URL}?updated_since={since}&page_size=3"
    while url:
        page = api_a.get(url)
        seen += ids_of(page)
        url = page.json()["next"]
    assert seen == [c.pk for c in made]  # by name, every one once


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-11-30", "2026-11-30T10:00:00", "2026-13-40T10:00:00Z", "1" * 300],
)
def test_a_bad_updated_since_is_400_naming_it(api_a, value):
    assert "updated_since" in errors(api_a.get(f"{URL}?updated_since={quote(value)}"))


@pytest.mark.parametrize(
    "value", ["0184-05-17T06:06:58.52-20:33", "2026-11-30T10:00:00+23:59", "0001-01-01T00:00+01:00"]
)
def test_an_odd_but_valid_offset_or_an_ancient_time_is_no_500(api_a, value):
    # Found by schemathesis: PostgreSQL refused the offset -20:33 (it takes up to ±15:59).
    response = api_a.get(f"{URL}?updated_since={quote(value)}")
    assert response.status_code in (200, 400), response.content


def test_a_naive_updated_since_says_the_offset_is_missing(api_a):
    message = errors(api_a.get(f"{URL}?updated_since=2026-11-30T10:00:00"))["updated_since"]
    assert "offset" in message


# ---------------------------------------------------------------------------
# ids


def test_ids_look_up_several_customers_at_once(api_a, in_a):
    with in_a():
        wanted = [make_customer(name=f"Sökt {i} AB") for i in range(3)]
        make_customer(name="Inte Sökt AB")
        Customer.objects.filter(pk=wanted[2].pk).update(status="inactive")
    query = ",".join(str(c.pk) for c in wanted)
    assert sorted(ids_of(api_a.get(f"{URL}?ids={query}"))) == sorted(c.pk for c in wanted)
    # Unknown ids are left out; duplicates count once; combined with other filters.
    assert ids_of(api_a.get(f"{URL}?ids={wanted[0].pk},{wanted[0].pk},999999")) == [wanted[0].pk]
    assert ids_of(api_a.get(f"{URL}?ids={query}&status=inactive")) == [wanted[2].pk]


def test_ids_of_another_tenants_customers_return_nothing(api_a, api_b, in_a):
    with in_a():
        theirs = make_customer(name="Nordljus Hemlig AB")
    assert ids_of(api_b.get(f"{URL}?ids={theirs.pk}")) == []
    assert ids_of(api_a.get(f"{URL}?ids={theirs.pk}")) == [theirs.pk]


@pytest.mark.parametrize("value", ["abc", "1,x", "1.5", "-3", "0", "1,,2", "", ",", str(2**63)])
def test_bad_ids_are_400_naming_the_parameter(api_a, value):
    message = errors(api_a.get(f"{URL}?ids={quote(value)}"))["ids"]
    assert "{" not in message and "%(" not in message


def test_a_bad_id_is_named_in_the_message(api_a):
    assert "'x7'" in errors(api_a.get(f"{URL}?ids=1,x7"))["ids"]
    example = errors(api_a.get(f"{URL}?updated_since=soon"))["updated_since"]
    assert "2026-11-30T08:00:00+01:00" in example


def test_more_than_the_maximum_of_ids_is_400(api_a):
    allowed = ",".join(str(i) for i in range(1, MAX_IDS + 1))
    assert api_a.get(f"{URL}?ids={allowed}").status_code == 200
    too_many = ",".join(str(i) for i in range(1, MAX_IDS + 2))
    message = errors(api_a.get(f"{URL}?ids={too_many}"))["ids"]
    assert str(MAX_IDS) in message


# ---------------------------------------------------------------------------
# Replays


def test_an_idempotent_replay_is_byte_identical_to_the_first_answer(api_a, in_a):
    body = {
        "name": "Replay Åkeri AB",
        "kind": "company",
        "email": "replay@example.test",
        "address": {"line1": "Hamnen 4", "postcode": "211 20", "city": "Malmö"},
    }
    first = send(api_a, "post", URL, body, HTTP_IDEMPOTENCY_KEY="sync-1")
    again = send(api_a, "post", URL, body, HTTP_IDEMPOTENCY_KEY="sync-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    with in_a():
        assert Customer.objects.filter(name="Replay Åkeri AB").count() == 1


# ---------------------------------------------------------------------------
# The schema


def test_the_schema_documents_the_conditional_headers_and_the_new_filters(db, tmp_path):
    out = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(out),
    )
    schema = json.loads(out.read_text())
    item = schema["paths"]["/api/v1/customers/{id}/"]
    read, change = item["get"], item["patch"]
    assert "If-None-Match" in {p["name"] for p in read["parameters"]}
    assert "If-Match" in {p["name"] for p in change["parameters"]}
    assert "304" in read["responses"] and "ETag" in read["responses"]["200"]["headers"]
    assert "412" in change["responses"]
    assert "application/problem+json" in change["responses"]["412"]["content"]
    listing = schema["paths"]["/api/v1/customers/"]["get"]
    assert {"updated_since", "ids"} <= {p["name"] for p in listing["parameters"]}


def test_two_concurrent_patches_with_the_same_if_match_apply_once(live_personas):
    """Real transactions: the second waits for the first, then finds its tag stale."""
    import threading

    from django.db import connections
    from django.test import Client

    with tenant_context(live_personas.tenant_a):
        customer = make_customer(name="Samtidig AB")
    url = f"{URL}{customer.pk}/"
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {live_personas.key_a}"}
    etag = Client(**auth).get(url)["ETag"]  # also the key's first use (a row lock of its own)
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def worker(number: int):
        try:
            barrier.wait()
            response = send(
                Client(**auth), "patch", url, {"name": f"Vinnare {number}"}, HTTP_IF_MATCH=etag
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200, 412, 412, 412]
