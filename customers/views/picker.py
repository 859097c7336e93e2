"""/customers/pick/?q=: number and name of matching customers, for every role.

The employee role may not browse the register (issue 14, item 12) but books hours
against customers in other systems: this page finds a customer by the Nordic search
and shows nothing else about it.
"""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from ..selectors import PICK_LIMIT, customer_pick


class CustomerPickForm(forms.Form):
    q = forms.CharField(
        label=_("Number or name"),
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True}),
    )


@tenant_perm_required(Perm.CUSTOMER_PICK)
def customer_pick_view(request):
    form = CustomerPickForm(request.GET or None)
    results = None
    if form.is_valid():
        results = customer_pick(query=form.cleaned_data["q"], country=request.tenant.country)
    template = "customers/pick/results.html" if request.htmx else "customers/pick/page.html"
    return render(request, template, {"form": form, "results": results, "limit": PICK_LIMIT})
