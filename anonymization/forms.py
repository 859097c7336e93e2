from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MAX_YEARS, MIN_YEARS, PRESETS

_YEARS = {
    "min_value": MIN_YEARS,
    "max_value": MAX_YEARS,
    "error_messages": {
        "invalid": _("Enter a whole number."),
        "min_value": _("Enter a number of years from 1 to 20."),
        "max_value": _("Enter a number of years from 1 to 20."),
    },
}


class RetentionForm(forms.Form):
    """Saved through services.retention_policy_update (which checks everything again)."""

    customer_years = forms.IntegerField(
        label=_("Retention for customers (years)"),
        help_text=_(
            "Counted from the end of the fiscal year of the customer's last activity. "
            "A customer's own period on its card overrides it."
        ),
        **_YEARS,
    )
    prospect_years = forms.IntegerField(
        label=_("Retention for prospects (years)"),
        help_text=_(
            "Prospects only ever got a quote. At most the customers' period; 2 years "
            "unless you choose otherwise."
        ),
        **_YEARS,
    )
    fiscal_year_end_day = forms.IntegerField(
        label=_("Fiscal year ends on day"),
        min_value=1,
        max_value=31,
        help_text=_("The same fiscal year as in the company settings. 29 February is not allowed."),
    )
    fiscal_year_end_month = forms.TypedChoiceField(
        label=_("Fiscal year ends in month"),
        coerce=int,
        choices=[
            (1, _("January")),
            (2, _("February")),
            (3, _("March")),
            (4, _("April")),
            (5, _("May")),
            (6, _("June")),
            (7, _("July")),
            (8, _("August")),
            (9, _("September")),
            (10, _("October")),
            (11, _("November")),
            (12, _("December")),
        ],
    )
    auto_anonymize_prospects = forms.BooleanField(
        label=_("Anonymize eligible prospects automatically"),
        required=False,
        help_text=_(
            "Every night, prospects whose retention period has passed and that nothing keeps "
            "are anonymized in a run of their own, shown in the anonymization log."
        ),
    )


def _preset_label(preset) -> str:
    return _(
        "%(country)s: %(years)s years for customers, %(prospects)s for prospects — %(source)s"
    ) % {
        "country": preset.name,
        "years": preset.years,
        "prospects": preset.prospect_years,
        "source": preset.source,
    }


class PresetForm(forms.Form):
    country = forms.ChoiceField(
        label=_("Country preset"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose one of the countries."),
            "invalid_choice": _("Choose one of the countries."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [(c, _preset_label(p)) for c, p in PRESETS.items()]


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("A dispute, a claim, a pending audit. Kept with the hold, not in the log."),
        error_messages={"required": _("Say why the customer is on hold.")},
    )


class EligibilityFilterForm(forms.Form):
    """The Anonymization page's filter (a GET form; anything unknown means everyone)."""

    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Prospects and customers")),
            ("prospects", _("Prospects only")),
            ("customers", _("Customers only")),
        ],
    )

    def prospects(self) -> bool | None:
        """True for prospects only, False for customers only, None for both."""
        show = self.cleaned_data.get("show") if self.is_valid() else ""
        return {"prospects": True, "customers": False}.get(show)


class IdListField(forms.Field):
    """Ticked rows: any number of ids (checked again by the service, scoped to the tenant)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("The customers are given by their ids.")}

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        ids = []
        for raw in values:
            raw = str(raw).strip()
            if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            ids.append(int(raw))
        return sorted(set(ids))


class AnonymizationRunForm(forms.Form):
    """Start a run from the Anonymization page: the ticked customers or all that match,
    the kinds of data, a note, and the confirmation phrase in the page's language."""

    customer = IdListField(label=_("Customers"), required=False)
    all_matching = forms.BooleanField(label=_("All that match the filters"), required=False)
    show = forms.CharField(required=False, widget=forms.HiddenInput)
    categories = forms.MultipleChoiceField(
        label=_("Data to anonymize"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of data.")},
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why this run (e.g. the yearly clean-up). Shown in the log: name no one."),
    )
    phrase = forms.CharField(label=_("Confirmation"), max_length=100)

    def __init__(self, *args, language: str, **kwargs):
        from .registry import CATEGORY_LABELS
        from .runs import confirmation_phrase

        super().__init__(*args, **kwargs)
        self.language = language
        self.fields["categories"].choices = list(CATEGORY_LABELS.items())
        self.fields["categories"].initial = list(CATEGORY_LABELS)
        self.fields["phrase"].help_text = _("Type “%(phrase)s” to confirm.") % {
            "phrase": confirmation_phrase(language)
        }
        self.fields["phrase"].error_messages["required"] = self.fields["phrase"].help_text

    def clean_phrase(self) -> str:
        from .runs import confirmation_phrase, phrase_matches

        typed = self.cleaned_data["phrase"]
        if not phrase_matches(typed, self.language):
            raise forms.ValidationError(
                _("Type exactly “%(phrase)s”.") % {"phrase": confirmation_phrase(self.language)}
            )
        return typed

    def clean(self):
        data = super().clean()
        if (
            not data.get("all_matching")
            and not data.get("customer")
            and "customer" not in (self.errors)
        ):
            self.add_error("customer", _("Tick the customers to anonymize, or all that match."))
        return data

    def prospects(self) -> bool | None:
        return {"prospects": True, "customers": False}.get(self.cleaned_data.get("show") or "")


class CardAnonymizeForm(AnonymizationRunForm):
    """Anonymize the one customer of the card (Avance's manual way): the same checks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("customer", "all_matching", "show"):
            del self.fields[name]

    def clean(self):
        return forms.Form.clean(self)
