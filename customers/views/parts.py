"""What the card's parts share: the customer lookup and the context every part page starts from.

The parts render their own pages, one module each: ``parts_keys`` (keys and cards),
``parts_files`` (files and links), ``parts_activities`` (the activity feed) and
``parts_registry`` (the update from the business registry).

Thin views: look the customer up in the active tenant (another tenant's id is a
404), parse a form, call a service, render. Writes answer with a redirect
(post/redirect/get), or, when htmx asked, with the refreshed partial.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse

from tenancy.roles import Perm

from ..models import Customer


def customer_or_404(pk: int) -> Customer:
    """The customer in the active tenant; another tenant's id is a 404."""
    return get_object_or_404(Customer, pk=pk)


def card_url(customer: Customer) -> str:
    try:
        return reverse("customer-card", kwargs={"pk": customer.pk})
    except NoReverseMatch:  # the card shell is another module's; its path is fixed
        return f"/customers/{customer.pk}/"


def _can_edit(request) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_perm(Perm.REGISTRY_EDIT)


def posted(request):
    """The POST data, or None on GET (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


def base_context(request, customer: Customer) -> dict:
    return {"customer": customer, "card_url": card_url(customer), "can_edit": _can_edit(request)}
