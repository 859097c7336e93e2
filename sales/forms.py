"""The Sales tab and page: search and filters of documents; the CSV import's upload."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .imports import MAX_BYTES
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


class SalesListForm(DocumentSearchForm):
    """The Sales page: the search also finds the customer's name and number."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def filter(self, documents):
        if not self.is_valid():
            return documents
        data = self.cleaned_data
        text = data["q"].strip()
        if text:
            documents = documents.filter(
                Q(number__icontains=text)
                | Q(customer__name__icontains=text)
                | Q(customer__number=text)
            )
        if data["kind"]:
            documents = documents.filter(kind=data["kind"])
        if data["status"]:
            documents = documents.filter(status=data["status"])
        return documents


class SalesImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 or Windows-1252, comma or semicolon separated, at most 5 MB and "
            "10,000 rows, with the template's header."
        ),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload.read()
