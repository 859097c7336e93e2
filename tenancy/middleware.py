"""Resolve the active tenant once, then run the whole response inside its scope.

The view and its template rendering run in one transaction (opened in ``process_view``),
except views marked with :func:`tenancy.decorators.outside_transaction`: those call a
provider or another server and open their own short transactions around the writes.
"""

from __future__ import annotations

from contextlib import ExitStack

from django.db import transaction

from .context import tenant_scope
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
                membership = _chosen_membership(request, user)
                if membership is not None:
                    request.membership = membership
                    request.tenant = membership.tenant
                    stack.enter_context(tenant_scope(membership.tenant))
            response = self.get_response(request)
            if response.status_code >= 500 and transaction.get_connection().in_atomic_block:
                # The view failed after writing: nothing of it may be committed.
                transaction.set_rollback(True)
            return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.outside_transaction = getattr(view_func, "outside_transaction", False)
        if request.tenant is not None and not request.outside_transaction:
            request.tenant_scope.enter_context(transaction.atomic())


def _chosen_membership(request, user):
    """The company in the URL (``/t/<slug>/``, checked by TenantUrlMiddleware), else the
    session's choice. A URL's company is for this request only: the session keeps its own."""
    if getattr(request, "url_tenant_slug", None) is not None:
        return request.url_membership
    return membership_for_session(user, request.session.get(SESSION_KEY))


def enter_tenant(request, tenant) -> None:
    """Activate ``tenant`` for the rest of this request (used by API-key authentication)."""
    django_request = getattr(request, "_request", request)
    django_request.tenant = tenant
    if not getattr(django_request, "outside_transaction", False):
        django_request.tenant_scope.enter_context(transaction.atomic())
    django_request.tenant_scope.enter_context(tenant_scope(tenant))
