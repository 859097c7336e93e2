"""Input the API refuses before any view runs: a clear 4xx problem, never a 500.

PostgreSQL refuses NUL in text (a query parameter, a header or a JSON string would
otherwise reach a query and fail there), Python's JSON decoder recurses per nesting
level, and Django only counts a body against DATA_UPLOAD_MAX_MEMORY_SIZE when it
reads ``request.body`` (DRF reads the stream). Field-level where there is a field.

This module must not import rest_framework.views (DRF's settings import the
parser below while that module is being loaded); see config/api.py.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

# No body the API takes is deeper than a customer with its address (3 levels).
MAX_JSON_DEPTH = 32
# The methods whose body the API reads (and whose operations document 413).
BODY_METHODS = ("POST", "PUT", "PATCH")
# A malformed credential is the authentication's to refuse (401), like any wrong key.
CREDENTIAL_HEADERS = ("HTTP_AUTHORIZATION",)


def _nul_message() -> str:
    return _("Null characters are not allowed.")


def problem_json(status: int, kind: str, detail: str, *, errors=None) -> JsonResponse:
    """A problem+json answer outside DRF (middleware, plain Django views)."""
    from config.api import PROBLEM_CONTENT_TYPE, problem_type
    from config.api_errors import status_title

    body = {
        "type": problem_type(kind),
        "title": status_title(status),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["title"] = str(_("Invalid input"))
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def _printable(name: str) -> str:
    return name.replace("\x00", "\\x00")


def _header_name(meta_key: str) -> str:
    return "-".join(part.capitalize() for part in meta_key.removeprefix("HTTP_").split("_"))


class ApiGuardMiddleware:
    """On /api/: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413, NUL in a query parameter
    or header is 400 naming it, too many query parameters is 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            refused = self.refuse(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def refuse(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.method in BODY_METHODS and _length(request) > limit:
            return problem_json(
                413,
                "too_large",
                _("The request body is larger than the %(limit)s bytes the API accepts.")
                % {"limit": limit},
            )
        try:
            query = request.GET
        except TooManyFieldsSent:
            return problem_json(400, "too_many_parameters", _("Too many query parameters."))
        errors = _nul_errors(request, query)
        if errors:
            return problem_json(
                400, "validation", _("One or more fields are invalid."), errors=errors
            )
        return None


def _length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # as Django reads it: no body


def _nul_errors(request, query) -> list[dict]:
    """A field error for each query parameter, header or cookie that holds a NUL."""
    named = [(name, text) for name, values in query.lists() for text in (name, *values)]
    named += [
        (_header_name(key), value)
        for key, value in request.META.items()
        if key.startswith("HTTP_") and key not in CREDENTIAL_HEADERS and isinstance(value, str)
    ]
    # A cookie's value is unquoted first: "\\000" in the header is a NUL here.
    named += [(name, text) for name, value in request.COOKIES.items() for text in (name, value)]
    fields = dict.fromkeys(_printable(name) for name, text in named if "\x00" in text)
    return [{"field": field, "message": _nul_message()} for field in fields]


def _refuse_bad_strings(data) -> None:
    """Walk parsed JSON without recursion: bounded depth; no NUL or lone surrogate in text."""
    errors: dict[str, list[str]] = {}
    stack = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise exceptions.ParseError(
                _("JSON nested deeper than %(max)s levels.") % {"max": MAX_JSON_DEPTH}
            )
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = ((str(index), item) for index, item in enumerate(value))
        else:
            if isinstance(value, str) and not _storable(value):
                errors.setdefault(path, []).append(_text_message(value))
            continue
        for key, item in items:
            child = f"{path}.{key}" if path else key
            if isinstance(value, dict) and not _storable(key):
                errors.setdefault(_printable(child), []).append(_text_message(key))
                continue
            stack.append((item, child, depth + 1))
    if errors:
        raise exceptions.ValidationError(errors)


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape ("\ud800")
        return False
    return True


def _text_message(text: str) -> str:
    if "\x00" in text:
        return _nul_message()
    return _("Text must be valid Unicode.")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with nesting bounded and text PostgreSQL can store."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                _("JSON nested deeper than %(max)s levels.") % {"max": MAX_JSON_DEPTH}
            ) from None
        _refuse_bad_strings(data)
        return data
