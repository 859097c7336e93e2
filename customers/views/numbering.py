"""Settings → Numbering: the next customer and contact numbers (settings.edit)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from ..services.numbering import numbering_current, numbering_update
from .shortcuts import request_actor

# A bigint's range would do; nobody numbers customers beyond this.
MAX_NUMBER = 10**12


class NumberingForm(forms.Form):
    customer_next = forms.IntegerField(
        label=gettext_lazy("Next customer number"),
        min_value=1,
        max_value=MAX_NUMBER,
        help_text=gettext_lazy("A new customer without a number of its own gets this one."),
    )
    contact_next = forms.IntegerField(
        label=gettext_lazy("Next contact number"), min_value=1, max_value=MAX_NUMBER
    )


@tenant_perm_required(Perm.SETTINGS_EDIT)
def numbering(request):
    form = NumberingForm(request.POST or None, initial=numbering_current())
    if request.method == "POST" and form.is_valid():
        try:
            numbering_update(actor=request_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Numbering saved."))
            return redirect("numbering")
    return render(request, "customers/numbering.html", {"form": form})
