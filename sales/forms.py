"""The card's Sales tab: search and filters of a customer's documents."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DocumentKind, DocumentStatus


class DocumentSearchForm(forms.Form):
    q = forms.CharField(label=_("Document number"), required=False, max_length=40)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *DocumentKind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open and closed")), *DocumentStatus.choices],
    )

    def filter(self, documents):
        if not self.is_valid():
            return documents
        data = self.cleaned_data
        if data["q"].strip():
            documents = documents.filter(number__icontains=data["q"].strip())
        if data["kind"]:
            documents = documents.filter(kind=data["kind"])
        if data["status"]:
            documents = documents.filter(status=data["status"])
        return documents
