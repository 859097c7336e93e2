"""The API's shared behaviour: cursor pages, throttling, idempotency (errors: config.api_errors).

This module must not import rest_framework.views: DRF's settings import the
classes defined here while rest_framework.views is being loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, status, throttling
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tenancy.client_ip import client_ip

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_type(kind: str) -> str:
    """A problem's type URI (RFC 9457): ``SITE_URL/problems/<kind>``, under this deployment's
    own address (production refuses to start without SITE_URL)."""
    return f"{settings.SITE_URL}/problems/{kind}"


def problem(status_code: int, title: str, detail: str = "", *, kind: str = "", **extra) -> Response:
    body = {
        "type": problem_type(kind or str(status_code)),
        "title": title,
        "status": status_code,
        "detail": detail or title,
        **extra,
    }
    return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


class ProductCondition(exceptions.APIException):
    """A product condition a client can branch on (docs/api.md): "SMS is not enabled for the
    company", "no consent text in that language". Its own problem ``type``
    (``problem_type(kind)``), a title of its own, status 422: the request is valid but the
    company's setup does not allow it."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, *, kind: str, title: str, detail: str):
        super().__init__(detail, code=kind)
        self.default_code = kind  # the problem type's last part (config.api_errors)
        self.title = title


class CursorPagination(pagination.CursorPagination):
    """Cursor pages; a tampered cursor is a 404 problem, never a 500."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and not self._is_position(position):
            raise exceptions.NotFound(self.invalid_cursor_message)
        return cursor

    def _is_position(self, position: str) -> bool:
        """Whether ``position`` is a value of the first ordering field (so the query can't fail)."""
        if "\x00" in position:  # PostgreSQL refuses NUL in text
            return False
        ordering = self.ordering if isinstance(self.ordering, list | tuple) else [self.ordering]
        name = ordering[0].lstrip("-")
        queryset = self._queryset
        annotations, model = queryset.query.annotations, queryset.model
        if name in annotations:
            field = annotations[name].output_field
        else:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        try:
            field.to_python(position)
        except DjangoValidationError:
            return False
        return True

    def get_paginated_response(self, data):
        return Response(
            {"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()}
        )

    def get_paginated_response_schema(self, schema):
        # DRF's has OpenAPI 3.0's `nullable` (a 3.1 schema ignores it, so a generated client
        # refused `"next": null`) and an example address of its own.
        def link(description: str) -> dict:
            return {"type": ["string", "null"], "format": "uri", "description": description}

        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "results": schema,
                "next": link("The next page; null on the last page."),
                "previous": link("The previous page; null on the first page."),
            },
        }


class TenantRateThrottle(throttling.SimpleRateThrottle):
    """One bucket per tenant (README: "API requests per tenant"): every API key and signed-in
    user of a company draw from it, so a second key is no fresh bucket. Without a tenant, per
    client address. DRF adds Retry-After to the 429."""

    scope = "tenant"

    def get_cache_key(self, request, view):
        # A DRF request, or Django's (config.api_ratelimit, before or outside DRF).
        tenant = getattr(getattr(request, "_request", request), "tenant", None)
        ident = f"tenant:{tenant.pk}" if tenant is not None else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request):
        # DRF's own reads X-Forwarded-For from anyone: the trusted-proxy rule instead.
        return client_ip(request) or "unknown"

    def allow_request(self, request, view):
        allowed = super().allow_request(request, view)
        if self.rate is not None:
            # For the RateLimit-* headers of this answer (config.api_ratelimit).
            request._request.rate_limit = self.state()
        return allowed

    def state(self) -> RateLimitState:
        """The bucket after this request: its size, what is left, seconds until a slot frees
        (the oldest request in the window leaves it)."""
        now = self.timer()
        history = [moment for moment in self.history if moment > now - self.duration]
        reset = self.duration - (now - history[-1]) if history else 0
        return RateLimitState(
            limit=self.num_requests,
            remaining=max(self.num_requests - len(history), 0),
            reset=max(math.ceil(reset), 0),
        )

    def peek(self, request) -> RateLimitState | None:
        """The bucket as it stands, for an answer given before the throttle ran (a 401, a
        403, a refused body): reads, counts nothing."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        return self.state()


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int  # seconds


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Idempotency-Key reused with a different request"
    default_code = "idempotency-conflict"


class IdempotentCreateMixin:
    """POSTs with an ``Idempotency-Key`` header answer the same key with the same body once.

    The first answer is stored (per tenant and principal); a repeat with the
    same body gets it again without doing anything, a different body gets 409.
    """

    def create(self, request, *args, **kwargs):
        from tenancy.models import IdempotencyRecord

        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return super().create(request, *args, **kwargs)
        if len(key) > 200:
            raise exceptions.ValidationError({"Idempotency-Key": _("At most 200 characters.")})
        api_key = getattr(request._request, "api_key", None)
        principal = f"key:{api_key.prefix}" if api_key else f"user:{request.user.pk}"
        digest = hashlib.sha256(
            json.dumps(request.data, sort_keys=True, default=str).encode() + request.path.encode()
        ).hexdigest()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        key=key,
                        principal=principal,
                        method=request.method,
                        path=request.path,
                        request_hash=digest,
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.select_for_update().get(
                    key=key, principal=principal
                )
                if record.request_hash != digest:
                    raise IdempotencyConflict(
                        _("This Idempotency-Key was used with a different request.")
                    ) from None
                response = _replay(record.response_body, record.response_status)
                response["Idempotent-Replayed"] = "true"
                return response
            response = super().create(request, *args, **kwargs)
            if response.status_code >= 400:
                # A failed attempt may be retried with the same key.
                record.delete()
                return response
            # Kept as the rendered text (a JSON string in the record): jsonb would reorder
            # the keys, and a replay must be byte for byte the first answer.
            body = JSONRenderer().render(response.data).decode("utf-8")
            record.response_status = response.status_code
            record.response_body = body
            record.save(update_fields=["response_status", "response_body"])
            return _replay(body, response.status_code)


def _replay(body, status_code: int) -> HttpResponse:
    """An answer exactly as stored: rendered text, or (records kept before the text was
    stored) the data, rendered now."""
    if not isinstance(body, str):
        body = JSONRenderer().render(body).decode("utf-8")
    return HttpResponse(body.encode("utf-8"), status=status_code, content_type="application/json")
