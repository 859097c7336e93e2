"""Resolve the active tenant once, then run the whole response inside its context."""

from __future__ import annotations

from contextlib import ExitStack

from django.db import transaction

from .context import tenant_context
from .selectors import membership_for_session

SESSION_KEY = "tenant_id"


class TenantMiddleware:
    """Signed-in users get their chosen (or first) tenant; API keys enter theirs in DRF.

    ``request.tenant_scope`` is an ExitStack closed when the response is done,
    so an authentication class that finds the tenant later (an API key) enters
    the same per-request context.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        with ExitStack() as stack:
            request.tenant_scope = stack
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                membership = membership_for_session(user, request.session.get(SESSION_KEY))
                if membership is not None:
                    request.membership = membership
                    request.tenant = membership.tenant
                    stack.enter_context(tenant_context(membership.tenant))
            response = self.get_response(request)
            if response.status_code >= 500 and transaction.get_connection().in_atomic_block:
                # The view failed after writing: nothing of it may be committed.
                transaction.set_rollback(True)
            return response


def enter_tenant(request, tenant) -> None:
    """Activate ``tenant`` for the rest of this request (used by API-key authentication)."""
    django_request = getattr(request, "_request", request)
    django_request.tenant = tenant
    django_request.tenant_scope.enter_context(tenant_context(tenant))
