from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404


def tenant_perm_required(perm: str):
    """A signed-in member of the active tenant whose role grants ``perm``."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None:
                raise Http404
            if not membership.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def outside_transaction(view):
    """Run ``view`` without the request's transaction (TenantMiddleware.process_view).

    For views that wait on another server (a provider's API, a business registry): a
    network call must not hold row locks or a snapshot open. The view's writes go
    through services that open their own transactions.
    """
    view.outside_transaction = True
    return view
