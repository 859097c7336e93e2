"""What the OpenAPI schema tells an integrator beyond the shapes (a drf-spectacular hook).

Generated SDKs name their methods after the ``operationId`` and group them by tag, and the
rendered docs show summaries and examples, so these are part of the contract. They are set
here, in one place, rather than on each view:

- ``operationId``: ``<path words>_<action>`` (``customers_list``,
  ``customers_consent_requests_create``), drf-spectacular's scheme for viewsets after
  SCHEMA_PATH_PREFIX; the few views that set their own follow it (``me_retrieve``,
  ``customers_export_retrieve``, ``events_list``), tests/config/test_schemathesis.py checks;
- tags: by what an integrator works on (customers, consent, ...), from the path;
- a summary for every operation, and request/answer examples for the main flow
  (create and find a customer, ask for consent, record a decision at the till).
"""

from __future__ import annotations

import re

from csp.constants import NONCE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView

PREFIX = re.compile(r"^/api/v[0-9]+/")

# Tags in the order the docs list them (SPECTACULAR_SETTINGS["TAGS"] describes each).
TAGS = [
    {"name": "Caller", "description": "Who is calling: the company, the key and its scopes."},
    {"name": "Customers", "description": "Find, create, read and change customers."},
    {
        "name": "Customer registers",
        "description": "A customer's contacts, addresses and consignees, and the company's "
        "reference registers (payment terms, districts, ...).",
    },
    {
        "name": "Consent",
        "description": "Consent texts, asking a customer for consent by email or SMS, and "
        "decisions taken at the till.",
    },
    {"name": "Sales documents", "description": "Quotes, orders, invoices, payments and cases."},
    {
        "name": "Anonymization",
        "description": "Who may be anonymized, and anonymization runs (no personal data).",
    },
    {
        "name": "Data subject rights",
        "description": "Everything held about a customer (GDPR art. 15/20).",
    },
    {"name": "Audit log", "description": "The company's audit log."},
    {
        "name": "Events",
        "description": "The company's events, for clients that cannot receive webhooks.",
    },
]

# The first path word (after /api/v1/) and, for /customers/{id}/<word>/, the nested one.
_TAG_BY_WORD = {
    "me": "Caller",
    "customers": "Customers",
    "contacts": "Customer registers",
    "addresses": "Customer registers",
    "consignees": "Customer registers",
    "reference-entries": "Customer registers",
    "consent": "Consent",
    "consent-requests": "Consent",
    "consent-terms": "Consent",
    "consent-settings": "Consent",
    "consent-decisions": "Consent",
    "sales-documents": "Sales documents",
    "eligibility": "Anonymization",
    "anonymization-runs": "Anonymization",
    "export": "Data subject rights",
    "audit-events": "Audit log",
    "events": "Events",
}

# Summaries for operations whose view gives none (keyed by operationId).
_SUMMARIES = {
    "me_retrieve": "Who is calling",
    "audit_events_list": "The audit log",
    "audit_events_retrieve": "An audit log entry",
    "customers_addresses_retrieve": "Read an address",
    "customers_addresses_partial_update": "Change an address",
    "customers_consignees_retrieve": "Read a consignee",
    "customers_consignees_partial_update": "Change a consignee",
    "customers_consignees_destroy": "Delete a consignee",
    "customers_contacts_retrieve": "Read a contact",
    "customers_contacts_partial_update": "Change a contact",
    "reference_entries_list": "Reference register entries",
    "reference_entries_create": "Add a reference register entry",
    "reference_entries_retrieve": "Read a reference register entry",
    "reference_entries_partial_update": "Change a reference register entry",
}

# Descriptions for operations whose view's text is about the code rather than the API.
_DESCRIPTIONS = {
    "anonymization_runs_retrieve": "A run's status, the kinds of data it erased and its "
    "counts. No personal data.",
    "consent_requests_retrieve": "Its status: `queued`, `sent`, `delivered`, `failed`, "
    "`accepted`, `declined` or `expired`. Carries an `ETag`.",
    "consent_decisions_receipt_retrieve": "The decision's Kantara consent receipt, as "
    "given to the customer.",
    "contacts_customers_destroy": "The contact stays, with its other customers; only the "
    "link to this customer is removed.",
    "customers_addresses_list": "Oldest first; `is_head_office` says which one is the head office.",
    "customers_addresses_retrieve": "Carries an `ETag`.",
    "customers_addresses_partial_update": "Send only the fields to change. `If-Match` with "
    "the `ETag` makes the change apply only to the version you read (else 412).",
    "customers_consent_retrieve": "The consent state: `none`, `requested`, `granted`, "
    "`declined`, `withdrawn` or `expired`, with the terms version, time and method of the "
    "last decision.",
    "customers_consent_create": "A decision taken at the till: `granted`, `declined` or "
    "`withdrawn`, for the terms version the customer was shown. `context` (store, terminal, "
    "staff) is kept with the proof.",
    "customers_consent_requests_create": "Sends the customer a link by email or SMS, in "
    "their language. 202 with the request; follow it at `/consent-requests/{id}/`. 409 "
    "(`consent-request-open`) while the customer has an open request; 422 when the "
    "company's setup or the customer's addresses do not allow it (`type` says which). "
    "Send an `Idempotency-Key`: a retry with the same key and body answers the first "
    "answer and sends nothing.",
    "customers_consignees_list": "The goods receivers registered for the customer.",
    "customers_consignees_create": "A new goods receiver for the customer.",
    "customers_consignees_retrieve": "Carries an `ETag`.",
    "customers_consignees_partial_update": "Send only the fields to change. `If-Match` with "
    "the `ETag` makes the change apply only to the version you read (else 412).",
    "customers_consignees_destroy": "Removes the consignee from the customer.",
    "customers_contacts_create": "A new contact person of the customer.",
    "customers_contacts_retrieve": "Carries an `ETag`.",
    "customers_contacts_partial_update": "Send only the fields to change. `If-Match` with "
    "the `ETag` makes the change apply only to the version you read (else 412).",
    "customers_list": "Finds customers in the company's register. `search` matches name, "
    "number, email, phone and organisation number, ignoring case and accents; the other "
    "parameters narrow the list. A search stops at a limit: `truncated` then says so, "
    "narrow it. `updated_since` and `ids` serve incremental sync and bulk lookup.",
    "customers_create": "Without `number`, the next one of the company's number series; "
    "without `country`, the company's. `address` becomes the head office. Finance fields "
    "cannot be set with an API key.",
    "customers_retrieve": "The customer with its head office and consent state. Carries an "
    "`ETag`; `If-None-Match` answers 304 while nothing changed.",
    "customers_partial_update": "Send only the fields to change; read-only and unknown "
    "fields are a 400. `If-Match` with the `ETag` makes the change apply only to the "
    "version you read (else 412).",
    "sales_documents_retrieve": "A sales document reported for a customer.",
}

# Components whose serializer's text is about the code.
_COMPONENT_DESCRIPTIONS = {
    "Eligibility": "A customer's eligibility for anonymization: from when it may be "
    "anonymized, and every reason it may not be yet.",
}

_CUSTOMER = {
    "id": 312,
    "number": "10045",
    "kind": "company",
    "name": "Ängby Bygg AB",
    "org_number": "556677-8899",
    "vat_number": "SE556677889901",
    "email": "info@angby.example",
    "phone": "+4681234567",
    "mobile": "+46701234567",
    "language": "sv",
    "country": "SE",
    "address": {
        "id": 801,
        "line1": "Storgatan 1",
        "line2": "",
        "postcode": "11122",
        "city": "Stockholm",
        "country": "SE",
    },
    "status": "active",
    "last_activity_at": "2026-11-28T14:03:11+01:00",
    "retention_years": None,
    "consent": {
        "status": "granted",
        "terms_version": 3,
        "decided_at": "2026-11-30T09:30:12+01:00",
        "method": "pos",
    },
    "created_at": "2026-10-02T08:15:00+02:00",
    "updated_at": "2026-11-30T09:30:12+01:00",
}
_CONSENT_REQUEST = {
    "id": 5521,
    "status": "queued",
    "channel": "email",
    "destination_masked": "i***@angby.example",
    "expires_at": "2026-12-15T09:30:12+01:00",
}

# operationId -> {"request": {name: (summary, value)}, "<status>": {name: (summary, value)}}.
# Answers show only the fields a client needs to see; the schema lists all.
_EXAMPLES = {
    "customers_create": {
        "request": {
            "company": (
                "A company with its head office",
                {
                    "kind": "company",
                    "name": "Ängby Bygg AB",
                    "org_number": "556677-8899",
                    "email": "info@angby.example",
                    "mobile": "+46701234567",
                    "language": "sv",
                    "address": {"line1": "Storgatan 1", "postcode": "11122", "city": "Stockholm"},
                },
            ),
            "person": (
                "A private person, numbered from the series",
                {"kind": "person", "name": "Jens Østergaard", "email": "jens@example.dk"},
            ),
        },
        "201": {"created": ("The new customer", _CUSTOMER)},
    },
    "customers_list": {
        "200": {
            "found": (
                "One page of a search",
                {"results": [_CUSTOMER], "next": None, "previous": None, "truncated": False},
            )
        }
    },
    "customers_consent_requests_create": {
        "request": {
            "email": ("Ask by email, in the customer's language", {"channel": "email"}),
            "sms": ("Ask by SMS, in Danish", {"channel": "sms", "language": "da"}),
        },
        "202": {"queued": ("The request, queued to be sent", _CONSENT_REQUEST)},
    },
    "customers_consent_create": {
        "request": {
            "granted": (
                "Consent given at the till",
                {
                    "decision": "granted",
                    "terms_version": 3,
                    "method": "pos",
                    "context": {"store": "Göteborg City", "terminal": "K2", "staff": "anna"},
                },
            ),
            "withdrawn": (
                "Consent withdrawn at the till",
                {"decision": "withdrawn", "terms_version": 3, "method": "pos"},
            ),
        },
    },
}


def _tag(path: str) -> str:
    words = [w for w in PREFIX.sub("", path).split("/") if w and not w.startswith("{")]
    if words[0] == "customers" and len(words) > 1 and words[1] in _TAG_BY_WORD:
        return _TAG_BY_WORD[words[1]]
    return _TAG_BY_WORD.get(words[0], "Customers")


def _examples(examples: dict) -> dict:
    return {
        name: {"summary": summary, "value": value} for name, (summary, value) in examples.items()
    }


def _add_examples(operation: dict, examples: dict) -> None:
    for where, named in examples.items():
        if where == "request":
            contents = operation.get("requestBody", {}).get("content", {})
        else:
            contents = operation["responses"][where].get("content", {})
        for content in contents.values():
            content["examples"] = _examples(named)


def _address_kind_input(schemas: dict) -> None:
    """The kinds an address may be given, `head_office` included. Input and output addresses
    share the component name "Address", so drf-spectacular named both kind enums
    AddressKindEnum and the output's (without `head_office`) replaced the input's."""
    from customers.serializers import AddressInputSerializer

    kinds = [value for value, _label in AddressInputSerializer().fields["kind"].choices.items()]
    schemas["AddressKindInputEnum"] = {"type": "string", "enum": kinds}
    for name in ("AddressRequest", "PatchedAddressRequest"):
        kind = schemas.get(name, {}).get("properties", {}).get("kind")
        if kind is not None:
            kind["allOf"] = [{"$ref": "#/components/schemas/AddressKindInputEnum"}]


def integrator_docs(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: operationIds, tags, summaries and examples (see above)."""
    for path, path_item in result.get("paths", {}).items():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            operation_id = operation["operationId"]
            operation["tags"] = [_tag(path)]
            if not operation.get("summary") and operation_id in _SUMMARIES:
                operation["summary"] = _SUMMARIES[operation_id]
            if operation_id in _DESCRIPTIONS:
                operation["description"] = _DESCRIPTIONS[operation_id]
            _add_examples(operation, _EXAMPLES.get(operation_id, {}))
    schemas = result.get("components", {}).get("schemas", {})
    _address_kind_input(schemas)
    for name, description in _COMPONENT_DESCRIPTIONS.items():
        if name in schemas:
            schemas[name]["description"] = description
    result["tags"] = TAGS
    return result


# The <style> elements ReDoc's bundle inserts while it loads, before `Redoc.init` can give
# them the nonce (its style-loader's CSS, and an empty one). Fixed by the ReDoc version in
# drf-spectacular-sidecar; tests/browser/test_api_docs.py fails when an upgrade changes them.
REDOC_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty style element
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
]


@method_decorator(
    csp_update(
        {
            "style-src": [NONCE, *REDOC_STYLE_HASHES],
            # ReDoc's search index runs in a Web Worker it builds from a blob: URL; there is
            # no option to load it from a file. This page only, and only workers.
            "worker-src": ["'self'", "blob:"],
        }
    ),
    name="dispatch",
)
class RedocView(SpectacularRedocView):
    """ReDoc under the app's CSP. Its styled-components insert <style> elements at run time,
    which no served file can cover: on this page alone, styles with the page's per-request
    nonce (static/js/api-docs-redoc.js hands it to ReDoc) or the hashes above apply, and
    search may run in a blob: worker. Scripts stay `'self'`."""
