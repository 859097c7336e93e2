"""Schemathesis against the live schema of a real server: no 500, and every answer as documented.

The app's WSGI handler runs in a thread on committed data (``live_db``) and is called
over HTTP with tenant A's API key, every operation of ``/api/schema/`` with a fixed seed
and a fixed budget of examples, so the run is repeatable and bounded. A failure lists
each finding with the request that reproduces it.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import hypothesis.configuration
import jsonschema
import pytest
import schemathesis
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
from schemathesis.engine import events, from_schema

from tenancy.context import tenant_context
from tests.factories import make_customer

SEED = 20261130
# About 450 requests, some 20 s: random examples per operation, then chains of calls that
# reach real objects (what one creates, the next reads and changes). Schemathesis's coverage
# phase (some 3,000 systematic cases) would take minutes; the bad inputs it finds have their
# own tests (test_bad_input.py).
MAX_EXAMPLES = 10
STATEFUL_STEPS = 10
# The checks whose findings fail the test: a server error, an answer (status, content
# type, body, headers) the schema does not describe.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


class _NoDelayHandler(QuietWSGIRequestHandler):
    # Headers and body go out in separate writes: with Nagle's algorithm and delayed ACKs
    # each answer on a kept-alive connection waited 40 ms.
    disable_nagle_algorithm = True


class _LiveServer(LiveServerThread):
    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port),
            _NoDelayHandler,
            allow_reuse_address=False,
            connections_override=connections_override,
        )


@pytest.fixture
def live_api(live_personas, tmp_path):
    """The app on a free port of 127.0.0.1 with tenant A's data; yields (base URL, API key)."""
    hypothesis.configuration.set_hypothesis_home_dir(tmp_path / "hypothesis")  # not the repo
    with tenant_context(live_personas.tenant_a):
        make_customer(name="Ängby Bygg AB", email="info@angby.example", mobile="+46701234567")
    thread = _LiveServer("127.0.0.1", StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}", live_personas.key_a
    thread.terminate()
    hypothesis.configuration.set_hypothesis_home_dir(None)


def run_schemathesis(base_url: str, key: str, *, checks=CHECKS, **overrides) -> dict:
    """One bounded, seeded run over every operation; what it tested and what it found."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": {"Authorization": f"Api-Key {key}"},
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {
                "coverage": {"enabled": False},
                "stateful": {"max-steps": STATEFUL_STEPS},
            },
            "cache": {"enabled": False},  # what an earlier run learned must not change this one
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in checks},
            },
            **overrides,
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/?format=json", config=config)
    operations = {op.ok().label for op in schema.get_all_operations()}
    tested, cases, findings, errors = set(), Counter(), [], []
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            recorder = event.recorder
            cases[event.phase.value] += len(recorder.cases)
            if recorder.cases and recorder.label in operations:
                tested.add(recorder.label)
            for case_id, nodes in recorder.checks.items():
                for node in nodes:
                    if node.failure_info is not None:
                        info = node.failure_info
                        findings.append(
                            f"{recorder.label}: {node.name}: {info.failure.title}\n"
                            f"{info.failure.message}\n{info.code_sample}  [case {case_id}]"
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return {
        "operations": operations,
        "tested": tested,
        "cases": sum(cases.values()),
        "cases_by_phase": dict(cases),
        "findings": sorted(set(findings)),
        "errors": errors,
        "seconds": time.monotonic() - started,
    }


def test_every_operation_answers_as_documented(live_api):
    base_url, key = live_api
    result = run_schemathesis(base_url, key)
    assert len(result["operations"]) >= 35, result["operations"]
    assert result["tested"] == result["operations"], result["operations"] - result["tested"]
    assert result["cases"] >= 8 * len(result["operations"]), result["cases_by_phase"]
    assert result["cases_by_phase"].get("stateful"), result["cases_by_phase"]
    assert not result["errors"], "\n".join(result["errors"])
    count = len(result["findings"])
    summary = f"{count} findings in {result['cases']} cases ({result['seconds']:.0f} s)"
    assert not count, summary + ":\n\n" + "\n\n".join(result["findings"])


def test_schema_documents_the_problem_answers(client):
    schema = client.get("/api/schema/?format=json").json()
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    operations = {
        f"{method.upper()} {path}": operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert len(operations) >= 35
    for name, operation in operations.items():
        responses = operation["responses"]
        wanted = {"400", "401", "403", "404", "429"}
        if name.split()[0] in ("POST", "PATCH"):
            wanted |= {"413", "415"}
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
            wanted.add("409")
        assert wanted <= set(responses), (name, sorted(responses))
        for code, response in responses.items():
            if code.startswith("4"):
                content = response["content"]
                assert list(content) == ["application/problem+json"], (name, code)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
        assert "Retry-After" in responses["429"]["headers"]
    assert (
        "422" in operations["POST /api/v1/customers/{customer_id}/consent-requests/"]["responses"]
    )
    assert "409" in operations["POST /api/v1/customers/"]["responses"]


def _operations(schema: dict) -> dict[str, dict]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_schema_is_written_for_integrators(client):
    """Readable operationIds, tags, summaries, no docstrings about our code, a server."""
    schema = client.get("/api/schema/?format=json").json()
    assert schema["servers"] == [{"url": "/", "description": "This installation"}]
    tags = [tag["name"] for tag in schema["tags"]]
    operations = _operations(schema)
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(set(ids)) == len(ids)
    for name, operation in operations.items():
        assert re.fullmatch(
            r"[a-z]+(_[a-z]+)*_(list|retrieve|create|partial_update|destroy)",
            operation["operationId"],
        ), (name, operation["operationId"])
        assert not operation["operationId"].startswith("v1_"), name
        assert len(operation["tags"]) == 1 and operation["tags"][0] in tags, name
        assert operation.get("summary"), name
        text = operation.get("description", "") + operation["summary"]
        assert not re.search(r"``|serializer|queryset|mixin|_class\b", text, re.I), (name, text)
    assert operations["GET /api/v1/customers/"]["operationId"] == "customers_list"
    assert operations["GET /api/v1/events/"]["operationId"] == "events_list"
    assert operations["GET /api/v1/me/"]["operationId"] == "me_retrieve"
    for component in schema["components"]["schemas"].values():
        assert "``" not in component.get("description", ""), component["description"]


def test_schema_enums_and_pages_are_exact(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    page = components["PaginatedCustomerList"]
    for link in ("next", "previous"):
        assert page["properties"][link]["type"] == ["string", "null"]  # OpenAPI 3.1 null
    assert {"results", "next", "previous", "truncated"} <= set(page["required"])
    # A customer without a language answers null, never "" (which the enum refuses).
    assert components["Customer"]["properties"]["language"]["oneOf"] == [
        {"$ref": "#/components/schemas/LanguageEnum"},
        {"$ref": "#/components/schemas/NullEnum"},
    ]
    assert components["LanguageEnum"]["enum"] == ["en", "sv", "da", "nb"]
    assert set(components["ConsentRequestStatusEnum"]["enum"]) == {
        "queued",
        "sent",
        "delivered",
        "failed",
        "accepted",
        "declined",
        "expired",
    }
    kind = components["AddressRequest"]["properties"]["kind"]["allOf"][0]["$ref"].split("/")[-1]
    assert "head_office" in components[kind]["enum"]  # an input address may be the head office
    method = components["Consent"]["properties"]["method"]["oneOf"][0]["$ref"].split("/")[-1]
    assert set(components[method]["enum"]) == {"link", "sms_reply", "pos", "manual"}
    assert set(components["ConsentDecisionMethodEnum"]["enum"]) == {
        "link",
        "sms_reply",
        "pos",
        "manual",
    }


def test_schema_examples_match_the_schema(client):
    """Every example validates against its schema (answers may leave fields out)."""
    schema = client.get("/api/schema/?format=json").json()
    partial = jsonschema.validators.extend(
        jsonschema.Draft202012Validator, {"required": lambda *args: None}
    )
    operations = _operations(schema)
    checked = 0
    for operation in operations.values():
        places = [("request", operation.get("requestBody", {}), jsonschema.Draft202012Validator)]
        places += [(code, answer, partial) for code, answer in operation["responses"].items()]
        for _where, body, validator in places:
            for content in body.get("content", {}).values():
                for example in content.get("examples", {}).values():
                    validator({**content["schema"], "components": schema["components"]}).validate(
                        example["value"]
                    )
                    checked += 1
    assert checked >= 7
    for name in (
        "POST /api/v1/customers/",
        "POST /api/v1/customers/{customer_id}/consent-requests/",
        "POST /api/v1/customers/{customer_id}/consent/",
    ):
        assert operations[name]["requestBody"]["content"]["application/json"]["examples"], name
    assert operations["GET /api/v1/customers/"]["responses"]["200"]["content"]["application/json"][
        "examples"
    ]
