"""Every API error as application/problem+json (RFC 9457), with field-level validation errors."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.views import exception_handler, set_rollback

from config.api import problem
from config.api_guard import problem_json

logger = logging.getLogger(__name__)


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error detail as a flat [{"field", "message"}] list."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            out += _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, dict | list) and not isinstance(item, str):
                out += _flatten(item, f"{prefix}[{index}]" if prefix else str(index))
            else:
                out.append({"field": prefix or None, "message": str(item)})
        return out
    return [{"field": prefix or None, "message": str(detail)}]


def status_title(status_code: int) -> str:
    """A short, translated title per status (RFC 9457: the same for every such problem)."""
    titles = {
        400: _("Bad request"),
        401: _("Not authenticated"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        406: _("Not acceptable"),
        409: _("Conflict"),
        412: _("The object has changed"),
        413: _("Request too large"),
        415: _("Unsupported media type"),
        422: _("Unprocessable request"),
        429: _("Too many requests"),
    }
    return str(titles.get(status_code) or HTTPStatus(status_code).phrase)


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = gettext_lazy("The request body is larger than the API accepts.")
    default_code = "too_large"


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # e.g. too many query parameters: the request's fault, never a 500.
        exc = exceptions.ParseError(_("The request could not be read."))
    response = exception_handler(exc, context)
    if response is None:
        # Not an API exception: log it and still answer in the contract's shape.
        logger.exception("Unhandled API error", exc_info=exc)
        set_rollback()
        return problem(500, _("Server error"), _("Something went wrong on our side."))
    headers = {
        k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")
    }
    if isinstance(exc, exceptions.ValidationError):
        result = problem(
            response.status_code,
            str(getattr(exc, "title", "") or _("Invalid input")),
            _("One or more fields are invalid."),
            kind=getattr(exc, "problem_kind", "validation"),
            errors=_flatten(exc.detail),
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        result = problem(
            response.status_code,
            str(getattr(exc, "title", "") or status_title(response.status_code)),
            str(detail),
            kind=getattr(exc, "default_code", ""),
            # Members of this problem type (RFC 9457 §3.2), e.g. the open request's id.
            **getattr(exc, "problem_extra", {}),
        )
    for key, value in headers.items():
        result[key] = value
    return result


@csrf_exempt  # only ever a 404: the CSRF check would answer an HTML 403 instead
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer in the API's shape, not with an HTML page."""
    return problem_json(404, "not_found", _("No such API endpoint."))
