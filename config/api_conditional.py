"""Conditional requests on single objects (docs/api.md): ``ETag``, ``If-None-Match``, ``If-Match``.

The ETag is a strong validator of the representation itself (a hash of the JSON the
caller is answered with), not of a row's ``updated_at``: a customer's answer also holds
its head office and consent state, which change without the customer row changing, and
a caller without the finance right sees other fields than one with it. So whatever the
caller sees changes, the tag changes, and a ``304`` never hides a change.

``If-Match`` is optional (docs/api.md: "a PATCH with a stale If-Match is 412"): without it a
PATCH applies as before; with it, it applies only while the object still reads as the
caller last saw it (RFC 9110 §13.1.1, strong comparison; ``*`` matches any object).
"""

from __future__ import annotations

import hashlib
import json

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder


class PreconditionFailed(exceptions.APIException):
    """412: the object changed since the caller read it (its own problem ``type``)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy(
        "The object has changed since you read it (If-Match does not match its ETag). "
        "Read it again, then repeat the change."
    )
    default_code = "precondition-failed"  # the problem type's last part (config.api_errors)
    title = gettext_lazy("The object has changed")


def etag_of(data) -> str:
    """A strong ETag of ``data`` as the API renders it (key order does not matter)."""
    encoded = json.dumps(data, cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    return '"' + hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:32] + '"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def if_none_match_hits(request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    header = request.headers.get("If-None-Match", "")
    tags = _tags(header)
    return "*" in tags or any(_opaque(tag) == etag for tag in tags)


def check_if_match(request, current_etag: str) -> None:
    """412 unless ``If-Match`` is absent, ``*``, or names ``current_etag`` (strong comparison:
    a weak tag never matches)."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = _tags(header)
    if "*" in tags or current_etag in tags:
        return
    raise PreconditionFailed()


def tagged(response: Response, etag: str) -> Response:
    response["ETag"] = etag
    return response


def not_modified(etag: str) -> Response:
    """304: no body, the same ETag (RFC 9110 §15.4.5)."""
    return tagged(Response(status=status.HTTP_304_NOT_MODIFIED), etag)


# --- The schema ----------------------------------------------------------------------

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` of the copy you hold: when the object still reads the same, "
    "the answer is 304 without a body.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional. The `ETag` the object had when you read it: the change applies "
    "only if nobody changed the object since, otherwise 412 (problem type "
    "`precondition-failed`). `*` matches any existing object.",
)
ETAG_HEADER = {
    "ETag": {
        "schema": {"type": "string"},
        "description": "A strong validator of this representation; send it back in "
        "`If-None-Match` (read) or `If-Match` (change).",
    }
}
NOT_MODIFIED = OpenApiResponse(description="Not modified: the object still has the ETag sent.")
PRECONDITION_FAILED = OpenApiResponse(
    description="The object changed since it was read: `If-Match` does not match its "
    "current ETag (problem type `precondition-failed`). Read it again and repeat the change."
)
