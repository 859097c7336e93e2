"""Who may see what of the registry (docs/design.md "Roles"; seed 001: the card is limited)."""

from __future__ import annotations

from tenancy.roles import Perm

from .models import FINANCE_FIELDS


def membership_of(request):
    return getattr(getattr(request, "_request", request), "membership", None)


def api_key_of(request):
    return getattr(getattr(request, "_request", request), "api_key", None)


def can_see_finance(request) -> bool:
    """Finance fields (credit, bank, accounting) need the finance right; API keys never see them."""
    if api_key_of(request) is not None:
        return False
    membership = membership_of(request)
    return membership is not None and membership.has_perm(Perm.FINANCE_VIEW)


def can_edit_finance(request) -> bool:
    if api_key_of(request) is not None:
        return False
    membership = membership_of(request)
    return membership is not None and membership.has_perm(Perm.FINANCE_EDIT)


def without_finance(field_names, request) -> list[str]:
    """``field_names`` minus the finance fields when the caller may not see them."""
    if can_see_finance(request):
        return list(field_names)
    return [name for name in field_names if name not in FINANCE_FIELDS]
