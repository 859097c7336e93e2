"""Forms of the customer list, the own selection and saved lists."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.urls import reverse_lazy
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenancy.models import ReferenceEntry, ReferenceRegister
from tenancy.selectors import reference_entries

from . import hooks
from .models import Customer, CustomerStatus
from .selectors import NOT_ACTIVE
from .services.selections import numbers_parse

SORTS = {
    "number": _("Number, ascending"),
    "-number": _("Number, descending"),
    "name": _("Name, A to Z"),
    "-name": _("Name, Z to A"),
    "last_activity": _("Last activity, oldest first"),
    "-last_activity": _("Last activity, newest first"),
}
DEFAULT_SORT = "name"
STATUSES = [(CustomerStatus.ACTIVE, _("Active")), (CustomerStatus.INACTIVE, _("Inactive"))]
# The query-string keys of the list's filters, in the order the form shows them.
FILTER_KEYS = (
    "q",
    "status",
    "district",
    "group",
    "business_area",
    "last_activity_before",
    "consent",
    "sort",
)
MAX_NUMBERS = 500


class EntryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ReferenceEntry) -> str:
        label = f"{obj.code} {obj.name}"
        return label if obj.is_active else f"{label} ({_('inactive')})"


def _entry_field(label) -> EntryChoiceField:
    return EntryChoiceField(
        label=label, queryset=ReferenceEntry.objects.none(), required=False, empty_label=_("Any")
    )


class CustomerFilterForm(forms.Form):
    """The search box and filters; every field is optional and comes from the query string."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Name, number, email, phone or organisation number"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autofocus": True,
                "autocomplete": "off",
                "hx-get": reverse_lazy("customer-list"),
                "hx-trigger": "keyup changed delay:300ms, search",
                "hx-target": "#customer-results",
                "hx-include": "closest form",
                "hx-push-url": "true",
                "hx-sync": "closest form:queue last",
            }
        ),
    )
    district = _entry_field(_("District"))
    group = _entry_field(_("Customer group"))
    business_area = _entry_field(_("Business area"))
    last_activity_before = forms.DateField(
        label=_("Last activity before"),
        required=False,
        help_text=_("Customers without any activity are included."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=STATUSES, required=False, widget=forms.HiddenInput
    )
    sort = forms.ChoiceField(
        label=_("Sort order"), choices=list(SORTS.items()), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = reference_entries(ReferenceRegister.DISTRICT)
        self.fields["group"].queryset = reference_entries(ReferenceRegister.CUSTOMER_GROUP)
        self.fields["business_area"].queryset = reference_entries(ReferenceRegister.BUSINESS_AREA)
        if hooks.consent_status_filter is not None:  # consent/ is installed
            self.fields["consent"] = forms.ChoiceField(
                label=_("Consent"),
                choices=[("", _("Any")), *hooks.consent_status_choices],
                required=False,
            )

    def selector_kwargs(self, *, tenant) -> dict:
        """Keyword arguments for ``customers.selectors.customer_list`` (call after is_valid)."""
        data = self.cleaned_data
        before = data.get("last_activity_before")
        status = data.get("status") or CustomerStatus.ACTIVE
        return {
            "search": data.get("q") or "",
            # The Inactive tab holds every customer that is not active (NOT_ACTIVE).
            "status": NOT_ACTIVE if status == CustomerStatus.INACTIVE else status,
            "district": data["district"].pk if data.get("district") else None,
            "group": data["group"].pk if data.get("group") else None,
            "business_area": data["business_area"].pk if data.get("business_area") else None,
            # "Before 1 May" means before the start of that day where the tenant is.
            "last_activity_before": datetime.combine(before, time.min, ZoneInfo(tenant.time_zone))
            if before
            else None,
            "ordering": data.get("sort") or DEFAULT_SORT,
            "country": tenant.country,
            "consent": data.get("consent") or "",
        }

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) of each filter in use, for the print view's heading."""
        data = self.cleaned_data
        status = data.get("status") or CustomerStatus.ACTIVE
        parts = [(str(_("Status")), str(dict(STATUSES)[status]))]
        for name in ("q", "district", "group", "business_area", "last_activity_before", "consent"):
            value = data.get(name)
            if not value:
                continue
            field = self.fields[name]
            if name == "consent":
                value = dict(field.choices).get(value, value)
            elif isinstance(field, EntryChoiceField):
                value = field.label_from_instance(value)
            elif name == "last_activity_before":
                value = formats.date_format(value, "SHORT_DATE_FORMAT")
            parts.append((str(field.label), str(value)))
        return parts


class SavedListForm(forms.Form):
    """Name and sharing of a new saved list; the filters come with it as hidden fields."""

    name = forms.CharField(
        label=_("List name"),
        max_length=100,
        help_text=_("The list keeps the search, the status, the filters and the sort order."),
    )
    shared = forms.BooleanField(label=_("Share with everyone in the company"), required=False)


class SelectionAddForm(forms.Form):
    numbers = forms.CharField(
        label=_("Customer numbers"),
        max_length=5000,
        help_text=_("One or more numbers, separated by commas or spaces."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_numbers(self) -> list[str]:
        numbers = numbers_parse(self.cleaned_data["numbers"])
        if not numbers:
            raise forms.ValidationError(_("Enter at least one customer number."))
        if len(numbers) > MAX_NUMBERS:
            raise forms.ValidationError(
                ngettext(
                    "Enter at most %(count)d number at a time.",
                    "Enter at most %(count)d numbers at a time.",
                    MAX_NUMBERS,
                )
                % {"count": MAX_NUMBERS}
            )
        return numbers


class CustomerPickForm(forms.Form):
    """Ticked rows of a customer table: ``customer`` ids of the active tenant."""

    customer = forms.ModelMultipleChoiceField(
        queryset=Customer.objects.none(),
        error_messages={
            "required": _("Tick at least one customer."),
            "invalid_choice": _("One of the ticked customers no longer exists."),
            "invalid_pk_value": _("One of the ticked customers no longer exists."),
        },
    )

    def __init__(self, *args, queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = (
            queryset if queryset is not None else Customer.objects.all()
        )
