"""A client generated from the live schema works against the live server (issue 12, item 3).

``openapi-python-client`` turns ``/api/schema/`` into a Python package, as an integrator
would; the test imports it and runs the consent flow a till runs: create a customer, find
it, publish consent terms if there are none, ask for consent by email, record a decision
taken at the till and read the result. The generated models parse every answer and raise
on a value the schema does not allow (an enum value, a null where none is documented, an
undocumented status), so a pass means the schema describes what the server answers.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.config.test_schemathesis import live_api  # noqa: F401 (the live server fixture)

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "kundreg_sdk"


@pytest.fixture
def sdk(live_api, tmp_path):  # noqa: F811
    """The package generated from the live server's schema, and the client to call it with."""
    base_url, key = live_api
    schema = tmp_path / "schema.json"
    schema.write_bytes(httpx.get(f"{base_url}/api/schema/?format=json", timeout=30).content)
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no formatter run on the code
    generated = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(tmp_path / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # A warning means a part of the schema the generator could not turn into code.
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module(PACKAGE)
        importlib.import_module(f"{PACKAGE}.models")
        client = package.AuthenticatedClient(
            base_url=base_url, token=key, prefix="Api-Key", raise_on_unexpected_status=True
        )
        with client:
            yield package, client
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class _Operations:
    """``ops.customers.customers_create``: the generated module of one operation."""

    def __init__(self, tag: str):
        self.tag = tag

    def __getattr__(self, name: str):
        return importlib.import_module(f"{PACKAGE}.api.{self.tag}.{name}")


def test_generated_client_runs_the_consent_flow(sdk):
    package, client = sdk
    models = package.models
    customers = _Operations("customers")
    consent = _Operations("consent")

    created = customers.customers_create.sync_detailed(
        client=client,
        body=models.CustomerRequest(
            kind=models.CustomerKindEnum.PERSON,
            name="Åsa Lindqvist",
            email="asa.lindqvist@example.se",
        ),
    )
    assert created.status_code == 201, created.content
    customer = created.parsed
    assert isinstance(customer, models.Customer)
    assert customer.language is None  # none set: null, not "" (which the enum refuses)
    assert customer.consent.status == models.ConsentStatusEnum.NONE

    page = customers.customers_list.sync(client=client, search="asa lindqvist")
    assert isinstance(page, models.PaginatedCustomerList)
    assert [c.id for c in page.results] == [customer.id]
    assert page.next_ is None and page.truncated is False

    settings = consent.consent_settings_retrieve.sync(client=client)
    assert isinstance(settings, models.ConsentSettings), settings
    terms = consent.consent_terms_create.sync_detailed(
        client=client,
        body=models.ConsentTermsPublishRequest(
            language=models.LanguageEnum.SV, text="Vi sparar dina uppgifter för nyhetsbrev."
        ),
    )
    assert terms.status_code in (200, 201), terms.content

    asked = consent.customers_consent_requests_create.sync_detailed(
        customer.id,
        client=client,
        body=models.ConsentRequestCreateRequest(
            channel=models.ConsentRequestCreateChannelEnum.EMAIL
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert asked.status_code == 202, asked.content
    request = asked.parsed
    assert isinstance(request, models.ConsentRequest)
    followed = consent.consent_requests_retrieve.sync(request.id, client=client)
    assert isinstance(followed, models.ConsentRequest)
    assert followed.id == request.id

    again = consent.customers_consent_requests_create.sync(
        customer.id,
        client=client,
        body=models.ConsentRequestCreateRequest(
            channel=models.ConsentRequestCreateChannelEnum.EMAIL
        ),
    )
    assert isinstance(again, models.Problem) and again.status == 409  # one open request

    current = consent.consent_terms_current_retrieve.sync(
        client=client, language=models.ConsentTermsCurrentRetrieveLanguage.SV
    )
    assert isinstance(current, models.ConsentTerms), current
    decided = consent.customers_consent_create.sync_detailed(
        customer.id,
        client=client,
        body=models.ConsentDecisionCreateRequest(
            decision=models.DecisionEnum.GRANTED,
            terms_version=current.version,
            method=models.ConsentDecisionCreateMethodEnum.POS,
            context=models.PosContextRequest(store="Göteborg City", terminal="K2", staff="anna"),
        ),
    )
    assert decided.status_code == 201, decided.content

    state = consent.customers_consent_retrieve.sync(customer.id, client=client)
    assert state.status == models.ConsentStatusEnum.GRANTED
    assert state.terms_version == current.version
    assert state.method == models.ConsentDecisionMethodEnum.POS
    read = customers.customers_retrieve.sync(customer.id, client=client)
    assert read.consent.status == models.ConsentStatusEnum.GRANTED

    missing = customers.customers_retrieve.sync(10**9, client=client)
    assert isinstance(missing, models.Problem) and missing.status == 404
