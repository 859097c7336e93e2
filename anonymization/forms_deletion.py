"""Forms of mass deletion: the proposal's filter (the customer list's filters, with the last
activity date required) and the confirmation that executes it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.forms_lists import STATUSES, CustomerFilterForm
from customers.models import CustomerStatus

# The query-string keys of the proposal, in the order the form shows them.
FILTER_FIELDS = (
    "last_activity_before",
    "status",
    "q",
    "district",
    "group",
    "business_area",
    "consent",
)


class DeletionFilterForm(CustomerFilterForm):
    """Which customers to propose: last activity before a date, plus the list's filters."""

    last_activity_before = forms.DateField(
        label=_("Last activity before"),
        help_text=_("Customers without any activity are included."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Choose the date of the last activity.")},
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=STATUSES, required=False, initial=CustomerStatus.ACTIVE
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Name, number, email, phone or organisation number"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["sort"]
        self.order_fields(FILTER_FIELDS)

    def params(self) -> list[tuple[str, str]]:
        """The filter as query-string pairs (for links and the execute form's hidden fields)."""
        pairs = []
        for name in FILTER_FIELDS:
            if name not in self.fields:
                continue
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if hasattr(value, "pk"):
                value = value.pk
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            pairs.append((name, str(value)))
        return pairs

    def criteria(self) -> dict:
        """What the run records of the filter: no free text (a search may hold a name)."""
        criteria = {k: v for k, v in self.params() if k != "q"}
        criteria["status"] = criteria.get("status") or CustomerStatus.ACTIVE.value
        if self.cleaned_data.get("q"):
            criteria["search"] = True
        return criteria


class DeletionExecuteForm(forms.Form):
    """Execute a proposal: a note about the run and the phrase of the page's language."""

    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why this deletion (e.g. the yearly clean-up). Shown in the log: name no one."),
    )
    phrase = forms.CharField(label=_("Confirmation"), max_length=100)

    def __init__(self, *args, language: str, **kwargs):
        from .deletion import confirmation_phrase

        super().__init__(*args, **kwargs)
        self.language = language
        self.fields["phrase"].help_text = _("Type “%(phrase)s” to confirm.") % {
            "phrase": confirmation_phrase(language)
        }
        self.fields["phrase"].error_messages["required"] = self.fields["phrase"].help_text

    def clean_phrase(self) -> str:
        from .deletion import confirmation_phrase, phrase_matches

        typed = self.cleaned_data["phrase"]
        if not phrase_matches(typed, self.language):
            raise forms.ValidationError(
                _("Type exactly “%(phrase)s”.") % {"phrase": confirmation_phrase(self.language)}
            )
        return typed
