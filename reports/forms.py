"""The report page's form: which report, over which selection of customers.

The selection is the customer list's filter form (the same fields, the same selector),
plus a saved list and the criteria only reports need.
"""

from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from customers.forms_lists import CustomerFilterForm
from customers.models import CustomerStatus, SavedList
from customers.selectors import NOT_ACTIVE
from customers.services.selections import LIST_FILTER_KEYS, saved_lists_visible

from .definitions import REPORTS

ALL = "all"
STATUS_CHOICES = [
    (CustomerStatus.ACTIVE, _("Active")),
    (CustomerStatus.INACTIVE, _("Inactive")),
    (ALL, _("All")),
]
# The page's own criteria (what the query string carries besides the list's filters).
OWN_KEYS = ("report", "saved_list", "never_asked", "no_email", "no_mobile", "start_at")


class SavedListChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SavedList) -> str:
        return obj.name


class ReportForm(CustomerFilterForm):
    report = forms.ChoiceField(
        label=_("Report"), choices=[(slug, r.label) for slug, r in REPORTS.items()]
    )
    saved_list = SavedListChoiceField(
        label=_("Saved list"),
        queryset=SavedList.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Its filters fill in the ones left empty below."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    never_asked = forms.BooleanField(label=_("Never asked for consent"), required=False)
    no_email = forms.BooleanField(label=_("Has no email"), required=False)
    no_mobile = forms.BooleanField(label=_("Has no mobile"), required=False)
    start_at = forms.IntegerField(
        label=_("Start at label position"),
        required=False,
        help_text=_(
            "For a label sheet already partly used: the position of the first free label, "
            "counted from the top left, row by row."
        ),
    )

    field_order = ["report", "saved_list", "q", "status"]

    def __init__(self, data=None, *, user, has_perm=None, labels_per_sheet: int = 24, **kwargs):
        self.user = user
        self.labels_per_sheet = labels_per_sheet
        super().__init__(_with_saved_list(data, user), **kwargs)
        self.fields["saved_list"].queryset = saved_lists_visible(user)
        # A report that needs a permission is not offered (and not accepted) without it.
        self.fields["report"].choices = [
            (slug, r.label)
            for slug, r in REPORTS.items()
            if r.perm is None or (has_perm is not None and has_perm(r.perm))
        ]
        self.fields["start_at"].widget.attrs.update(min=1, max=labels_per_sheet)
        # The list's search box searches as one types (htmx); here the form is submitted.
        self.fields["q"].widget = forms.TextInput(attrs={"type": "search", "autocomplete": "off"})

    def clean_start_at(self) -> int:
        start = self.cleaned_data.get("start_at")
        if start is None:
            return 1
        if not 1 <= start <= self.labels_per_sheet:
            raise forms.ValidationError(
                _("Enter a position from 1 to %(count)s: the label sheet has %(count)s labels."),
                code="start_at",
                params={"count": self.labels_per_sheet},
            )
        return start

    def clean(self):
        data = super().clean()
        report = REPORTS.get(data.get("report") or "")
        if report is not None and report.needs_before and not data.get("last_activity_before"):
            self.add_error(
                "last_activity_before", _("Pick a date: the report lists customers inactive since.")
            )
        return data

    @property
    def report_definition(self):
        return REPORTS[self.cleaned_data["report"]]

    def selection_kwargs(self, *, tenant) -> dict:
        """Keyword arguments for ``reports.selectors.selection`` (call after is_valid)."""
        list_kwargs = self.selector_kwargs(tenant=tenant)
        status = self.cleaned_data.get("status")
        if status == ALL:
            list_kwargs["status"] = None
        elif status == CustomerStatus.INACTIVE:
            list_kwargs["status"] = NOT_ACTIVE
        return {
            "list_kwargs": list_kwargs,
            "never_asked": self.cleaned_data.get("never_asked", False),
            "no_email": self.cleaned_data.get("no_email", False),
            "no_mobile": self.cleaned_data.get("no_mobile", False),
        }

    def filters_in_use(self) -> list[str]:
        """The names (never the values) of the criteria in use, for the audit log."""
        names = []
        for name in ("saved_list", *LIST_FILTER_KEYS, "q", "never_asked", "no_email", "no_mobile"):
            if name in ("sort", "status") or name not in self.fields:
                continue
            if self.cleaned_data.get(name):
                names.append(name)
        if (self.cleaned_data.get("status") or CustomerStatus.ACTIVE) != CustomerStatus.ACTIVE:
            names.append("status")  # a status other than the default one
        return names

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) of each criterion in use, for the page's and the print's heading."""
        data = self.cleaned_data
        status = data.get("status") or CustomerStatus.ACTIVE
        parts = [(str(_("Status")), str(dict(STATUS_CHOICES)[status]))]
        if data.get("saved_list"):
            parts.insert(0, (str(_("Saved list")), data["saved_list"].name))
        # The list form's own summary, without its status (it knows no "All").
        data["status"], kept = CustomerStatus.ACTIVE, data.get("status")
        try:
            parts += super().summary()[1:]
        finally:
            data["status"] = kept
        for name in ("never_asked", "no_email", "no_mobile"):
            if data.get(name):
                parts.append((str(self.fields[name].label), str(_("Yes"))))
        return parts


def _with_saved_list(data, user):
    """``data`` with the saved list's filters where ``data`` leaves them empty."""
    if data is None or not data.get("saved_list"):
        return data
    pk = data.get("saved_list")
    saved = saved_lists_visible(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if saved is None:
        return data  # the field says it is not a valid choice
    merged = data.copy() if isinstance(data, QueryDict) else QueryDict(mutable=True)
    if not isinstance(data, QueryDict):
        merged.update(data)
    for key, value in saved.query().items():
        if not merged.get(key):
            merged[key] = value
    return merged
