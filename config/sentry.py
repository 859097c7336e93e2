"""Error reporting to Sentry (or anything speaking its protocol), only when SENTRY_DSN is set.

Events carry no personal data we can keep out: no default PII (users, IPs), and
``scrub_event`` drops request bodies, cookies and credentials headers, which would hold
customers' names, session ids and API keys.
"""

from __future__ import annotations

from typing import Any

_SECRET_HEADERS = {"cookie", "authorization", "x-api-key", "x-csrftoken", "proxy-authorization"}


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS
            }
    return event


def sentry_init(*, dsn: str, environment: str = "", release: str = "", **options: Any) -> bool:
    """Start the SDK for Django and Celery; False (and nothing done) without a DSN."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No users, IPs, cookies or bodies (send_default_pii's successor), and no stack
        # frames' local variables: those hold customers' names and addresses.
        data_collection={"user_info": False, "http_bodies": []},
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        **options,
    )
    return True
