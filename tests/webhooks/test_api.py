"""GET /api/v1/events/: the feed for clients that cannot receive webhooks."""

from __future__ import annotations

from tenancy.context import tenant_context
from tests.factories import make_customer
from webhooks.models import Event

URL = "/api/v1/events/"


def _five_events(personas) -> list[int]:
    with tenant_context(personas.tenant_a):
        for n in range(5):
            make_customer(name=f"Kund {n} AB")
        return list(Event.objects.order_by("id").values_list("id", flat=True))


def test_paging_by_cursor_oldest_first(personas):
    ids = _five_events(personas)
    client = personas.api(personas.key_a)
    seen, after, pages = [], 0, 0
    while True:
        response = client.get(URL, {"after": after, "limit": 2})
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [e["id"] for e in body["results"]]
        after = body["next_after"]
        pages += 1
        assert body["previous"] is None
        if not body["has_more"]:
            assert body["next"] is None
            break
        assert f"after={after}" in body["next"]
    assert seen == ids and pages == 3
    # Polling later with the stored cursor: nothing new, the same cursor back.
    body = client.get(URL, {"after": after}).json()
    assert body == {
        "results": [],
        "next_after": after,
        "has_more": False,
        "next": None,
        "previous": None,
    }
    first = client.get(URL, {"limit": 1}).json()["results"][0]
    assert set(first) == {"id", "type", "created_at", "tenant", "object", "data"}
    assert first["type"] == "customer.created" and first["tenant"] == "nordljus"
    assert first["object"]["type"] == "customer"


def test_unknown_and_bad_parameters_are_400_naming_them(personas):
    client = personas.api(personas.key_a)
    for params, name in [
        ({"since": "1"}, "since"),
        ({"cursor": "x"}, "cursor"),
        ({"after": "abc"}, "after"),
        ({"after": "-1"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"after": "9" * 30}, "after"),
    ]:
        response = client.get(URL, params)
        assert response.status_code == 400, (params, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [name]


def test_another_tenants_key_sees_none_of_ours(personas):
    _five_events(personas)
    with tenant_context(personas.tenant_b):
        make_customer(name="Fjord AS")
        (b_event,) = Event.objects.values_list("id", flat=True)
    body = personas.api(personas.key_b).get(URL).json()
    assert [e["id"] for e in body["results"]] == [b_event]
    assert body["results"][0]["tenant"] == "fjordvik"


def test_the_schema_describes_it(personas):
    response = personas.client(personas.alice).get("/api/schema/", {"format": "json"})
    operation = response.json()["paths"]["/api/v1/events/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"after", "limit"}


def test_a_session_needs_the_registry_right(personas):
    assert personas.client(personas.bob).get(URL).status_code == 200
    assert personas.client(personas.erik).get(URL).status_code == 403
