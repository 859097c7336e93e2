"""Update the customer from the business registry (Norway, Finland): compare, tick, apply."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tenancy.decorators import outside_transaction, tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from .. import registry_lookup
from ..forms_parts import RegistryUpdateForm
from ..registry_lookup.services import customer_registry_update, registry_proposals
from .parts import base_context, card_url, customer_or_404, posted
from .shortcuts import request_actor


@outside_transaction  # waits on the business registry's server
@tenant_perm_required(Perm.REGISTRY_EDIT)
def registry_update(request, pk):
    """Show the registry's values beside the card's; apply the ticked ones (NO and FI only)."""
    customer = customer_or_404(pk)
    context = base_context(request, customer)
    country = (customer.country or "").upper()
    number = registry_lookup.registry_number(customer)
    if country not in registry_lookup.SUPPORTED_COUNTRIES:
        context["problem"] = _(
            "Updating from the business registry is available for customers in Norway and "
            "Finland only."
        )
    elif not number:
        context["problem"] = _(
            "Add a valid organisation number or VAT number to the customer first."
        )
    else:
        try:
            record = registry_lookup.lookup(country, number)
        except registry_lookup.RegistryUnavailable:
            context["problem"] = _(
                "The business registry is unavailable right now. Nothing was changed; "
                "try again later."
            )
        else:
            if record is None:
                context["problem"] = _(
                    "The business registry has no company with the number %(number)s."
                ) % {"number": number}
            else:
                return _registry_form(request, customer, record, context)
    return render(request, "customers/parts/registry_update.html", context)


def _registry_form(request, customer, record, context):
    proposals = registry_proposals(customer=customer, record=record)
    form = RegistryUpdateForm(posted(request), proposals=proposals)
    if request.method == "POST" and form.is_valid():
        if not form.chosen():
            form.add_error(None, _("Tick at least one field to update."))
        else:
            try:
                applied = customer_registry_update(
                    customer=customer,
                    record=record,
                    fields=form.chosen(),
                    actor=request_actor(request),
                    user=request.user,
                )
            except ValidationError as exc:
                customer.refresh_from_db()  # customer_update may have set values it then refused
                apply_service_errors(form, exc)
            else:
                if applied:
                    messages.success(request, _("The customer was updated from the registry."))
                else:
                    messages.info(request, _("Nothing needed updating."))
                return redirect(card_url(customer))
    context |= {"record": record, "proposals": proposals, "form": form}
    return render(request, "customers/parts/registry_update.html", context)
