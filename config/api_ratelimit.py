"""``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` on every API answer (docs/api.md).

The tenant's bucket (``config.api.TenantRateThrottle``) records its state on the request
when it counts one; this middleware writes it into the answer. An answer given before the
throttle ran (401, 403, 404 of an unknown path, a body refused by ``ApiGuardMiddleware``)
shows the bucket as it stands, uncounted: the tenant's when the caller got that far, else
the client address's. A 429 from the failed-key limiter (tenancy.api_auth) has no bucket
of the tenant's behind it: it says 0 remaining, that limiter's size and its Retry-After.

Also the schema hook that documents these headers (and ``ETag``) on every answer.
"""

from __future__ import annotations

from django.conf import settings

from config.api_conditional import ETAG_HEADER

API_PREFIX = "/api/"


def _failed_key_limit() -> int:
    return int(settings.API_KEY_FAILURE_RATE.split("/")[0])


def rate_limit_state(request, response):
    from config.api import RateLimitState, TenantRateThrottle

    state = getattr(request, "rate_limit", None)
    if state is not None:
        return state
    if response.status_code == 429:
        wait = response.get("Retry-After", "0")
        reset = int(wait) if wait.isdigit() else 0
        return RateLimitState(limit=_failed_key_limit(), remaining=0, reset=reset)
    return TenantRateThrottle().peek(request)


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            state = rate_limit_state(request, response)
            if state is not None:
                response["RateLimit-Limit"] = str(state.limit)
                response["RateLimit-Remaining"] = str(state.remaining)
                response["RateLimit-Reset"] = str(state.reset)
        return response


# --- The schema ----------------------------------------------------------------------

RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {
        "schema": {"type": "integer"},
        "description": "Requests the company's bucket holds per window (all its keys and "
        "users together).",
    },
    "RateLimit-Remaining": {
        "schema": {"type": "integer"},
        "description": "Requests left in the bucket after this one.",
    },
    "RateLimit-Reset": {
        "schema": {"type": "integer"},
        "description": "Seconds until the bucket has room again.",
    },
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _is_conditional(operation: dict) -> bool:
    return any(
        parameter.get("in") == "header"
        and parameter.get("name", "").lower() in ("if-none-match", "if-match")
        for parameter in operation.get("parameters", [])
    )


def rate_limit_headers(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry (after config.api_schema.problem_responses): the RateLimit
    headers on every answer, and ``ETag`` on the 200 and 304 of conditional operations."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            conditional = _is_conditional(operation)
            for code, response in operation.get("responses", {}).items():
                # A new dict: another hook may share one between operations.
                headers = {**response.get("headers", {}), **RATE_LIMIT_HEADERS}
                if conditional and code in ("200", "304"):
                    headers.update(ETAG_HEADER)
                response["headers"] = headers
    return result
