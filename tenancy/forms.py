import zoneinfo
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .branding import validate_logo
from .models import LANGUAGE_CHOICES, ApiKeyScope, ReferenceEntry, Tenant
from .roles import Role


class ReferenceEntryForm(forms.ModelForm):
    class Meta:
        model = ReferenceEntry
        fields = ["code", "name", "description", "sort_order", "is_active"]


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class NumberSeriesForm(forms.Form):
    next_value = forms.IntegerField(label=_("Next number"), min_value=1)


class TenantSettingsForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Customers without a language of their own get the first one."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[])

    class Meta:
        model = Tenant
        fields = [
            "name",
            "languages",
            "time_zone",
            "fiscal_year_end_month",
            "fiscal_year_end_day",
            "brand_colour",
            "logo",
            "require_mfa",
        ]
        widgets = {"brand_colour": forms.TextInput(attrs={"placeholder": "#1a6b4f", "size": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z)
        self.fields["time_zone"].choices = [(z, z) for z in zones]

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):
            validate_logo(logo)
        # A cleared logo is stored as no file ("" in the column), not False.
        return "" if logo is False else logo

    def clean(self):
        cleaned = super().clean()
        month, day = cleaned.get("fiscal_year_end_month"), cleaned.get("fiscal_year_end_day")
        if month and day:
            try:
                date(2023, month, day)  # a non-leap year: the end must exist every year
            except ValueError:
                self.add_error("fiscal_year_end_day", _("That day does not exist in that month."))
        return cleaned


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class MemberChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: at its field when the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields and not form.fields[name].disabled else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)
