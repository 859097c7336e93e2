"""The OpenAPI schema says what the API answers when it says no (a drf-spectacular hook).

Every error is application/problem+json (config/api_errors.py), so each operation
gets the 4xx answers it can give, all with the one ``Problem`` component, here in
one place rather than on every view:

- every operation: 400 (a query parameter or header it cannot take), 401, 403, 404,
  406 (an ``Accept`` it cannot answer) and 429;
- operations that take a body (POST, PUT, PATCH): 413 and 415 as well;
- operations that take an ``Idempotency-Key``: 409;
- an error a view documents itself (e.g. 422) gets the ``Problem`` body.

``AutoSchema`` lets an answer's text be "" where the model field may be blank (DRF
drops ``allow_blank`` from read-only fields, so "" failed an email, URL or choice).
"""

from __future__ import annotations

import copy

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from drf_spectacular.plumbing import get_doc
from rest_framework import serializers

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM = {
    "type": "object",
    "description": "An error (RFC 9457). Validation errors list each field's messages.",
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "description": (
                "What kind of problem this is: `<site>/problems/<kind>` under the server's own "
                "address; stable, for a client to branch on."
            ),
        },
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
        "errors": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ProblemError"},
            "description": "Validation errors, one per message.",
        },
    },
    "required": ["type", "title", "status", "detail"],
}
PROBLEM_ERROR = {
    "type": "object",
    "properties": {
        "field": {
            "type": ["string", "null"],
            "description": "The field (dotted for nested ones, or a query parameter or "
            "header name); null for an error of the whole request.",
        },
        "message": {"type": "string"},
    },
    "required": ["field", "message"],
}

DESCRIPTIONS = {
    "400": "Invalid input: field-level errors in `errors`. An unknown query parameter or "
    "body field, or a read-only one, is refused there by name, never ignored.",
    "401": "No valid API key or session.",
    "403": "The API key or user lacks the scope or right this needs.",
    "404": "No such object for this tenant (another tenant's objects do not exist here).",
    "406": "The `Accept` header asks for a type the API cannot answer with.",
    "409": "The `Idempotency-Key` was used with a different request.",
    "413": "The request body is larger than the API accepts.",
    "415": "The request body is not JSON.",
    "422": "The request is valid but the company's setup does not allow it; the problem's "
    "`type` names the condition.",
    "429": "Too many requests: wait the seconds in `Retry-After`.",
}
HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "How to authenticate (`Api-Key`).",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "string"},
            "description": "Seconds to wait before trying again.",
        }
    },
}
EVERY_OPERATION = ("400", "401", "403", "404", "406", "429")
WITH_BODY = ("413", "415")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _takes_idempotency_key(operation: dict) -> bool:
    return any(
        parameter.get("in") == "header" and parameter.get("name", "").lower() == "idempotency-key"
        for parameter in operation.get("parameters", [])
    )


def _error_codes(method: str, operation: dict) -> list[str]:
    codes = list(EVERY_OPERATION)
    if method in ("post", "put", "patch"):
        codes += WITH_BODY
    if _takes_idempotency_key(operation):
        codes.append("409")
    return codes


def problem_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: the Problem component and each operation's 4xx answers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    schemas["ProblemError"] = PROBLEM_ERROR
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in _error_codes(method, operation):
                responses.setdefault(code, {"description": DESCRIPTIONS[code]})
            for code, response in responses.items():
                if not code.startswith("4"):
                    continue
                response.setdefault("description", DESCRIPTIONS.get(code, ""))
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
                if code in HEADERS:
                    response.setdefault("headers", HEADERS[code])
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _model_field_may_be_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False


def _as_answered(field):
    """The field as the schema should show it: a blank text may be "" (read-only fields
    appear in answers only)."""
    if (
        field.read_only
        and not getattr(field, "blank_as_null", False)
        and isinstance(field, serializers.CharField | serializers.ChoiceField)
        and not field.allow_blank
        and _model_field_may_be_blank(field)
    ):
        field = copy.copy(field)
        field.allow_blank = True
    return field


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, with "" allowed in answers where the model field may be blank, and
    an operation's description taken only from its own view: drf-spectacular falls back on
    docstrings inherited from base classes and mixins, which describe our code, not the API
    (an operation a view does not describe gets its text in config/api_docs.py)."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        # A serializer without a docstring of its own would show its mixin's (about our code).
        if "__doc__" not in type(serializer).__dict__ or not type(serializer).__doc__:
            schema.pop("description", None)
        elif "description" in schema:
            schema["description"] = schema["description"].replace("``", "`")  # Markdown
        return schema

    def get_description(self) -> str:
        action = getattr(self.view, getattr(self.view, "action", self.method.lower()), None)
        action_doc = get_doc(action)
        if action_doc:
            return action_doc
        own = type(self.view).__dict__.get("__doc__")
        return get_doc(type(self.view)) if own else ""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        return super()._map_serializer_field(_as_answered(field), direction, bypass_extensions)

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(_as_answered(field), schema)
