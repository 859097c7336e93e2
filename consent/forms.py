from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.models import LANGUAGE_CHOICES

from .models import Channel, ConsentSettings, Decision, ManualHow
from .selectors import terms_current


class TermsForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    text = forms.CharField(
        label=_("Consent text"),
        widget=forms.Textarea(attrs={"rows": 12}),
        max_length=20000,
        help_text=_(
            "Saving publishes a new version; customers who already answered keep the "
            "version they were shown."
        ),
    )


def _number_errors(message) -> dict:
    return {"invalid": message, "min_value": message, "max_value": message}


DAYS_1_365 = _("Enter a number of days from 1 to 365.")


class ConsentSettingsForm(forms.ModelForm):
    """The request and lifecycle settings; saved through services.consent_settings_update."""

    class Meta:
        model = ConsentSettings
        fields = [
            "request_valid_days",
            "reminder_after_days",
            "consent_valid_months",
            "renewal_notice_days",
        ]
        help_texts = {
            "reminder_after_days": _(
                "One reminder with a new link if the customer has not answered by then. "
                "Leave empty for no reminder."
            ),
            "consent_valid_months": _(
                "A given consent lapses after this many months unless the customer renews it. "
                "Leave empty if consent holds until it is withdrawn."
            ),
            "renewal_notice_days": _(
                "Customers get a new consent request this many days before their consent lapses."
            ),
        }
        error_messages = {
            "request_valid_days": _number_errors(DAYS_1_365),
            "reminder_after_days": _number_errors(
                _("Enter a number of days from 1 to 364, or leave it empty for no reminder.")
            ),
            "consent_valid_months": _number_errors(
                _(
                    "Enter a number of months from 1 to 120, or leave it empty if consent "
                    "never lapses."
                )
            ),
            "renewal_notice_days": _number_errors(DAYS_1_365),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a post (an older form, a script), it keeps its value; sent empty,
        # the service says it needs a number.
        self.fields["renewal_notice_days"].required = False

    def settings_changes(self) -> dict:
        """The cleaned values of the fields the post contained (the service keeps the rest)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if not self[name].field.widget.value_omitted_from_data(
                self.data, self.files, self.add_prefix(name)
            )
        }


# --- the consent panel on the customer card (consent.views_card) ---------------------

ANY_CHANNEL = "any"


def _customer_language(customer, tenant) -> str:
    return customer.language or tenant.default_language


class CardRequestForm(forms.Form):
    """Request consent from one customer, by email, SMS or whichever address it has."""

    channel = forms.ChoiceField(
        label=_("Send by"),
        choices=[
            (ANY_CHANNEL, _("Whichever the customer has (email first)")),
            (Channel.EMAIL, Channel.EMAIL.label),
            (Channel.SMS, Channel.SMS.label),
        ],
        initial=ANY_CHANNEL,
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)

    def __init__(self, *args, customer, tenant, **kwargs):
        kwargs.setdefault("prefix", "consent-request")
        super().__init__(*args, **kwargs)
        language = _customer_language(customer, tenant)
        offered = set(tenant.languages or []) | {language}
        self.fields["language"].choices = [
            (code, label) for code, label in LANGUAGE_CHOICES if code in offered
        ]
        self.fields["language"].initial = language


class CardManualForm(forms.Form):
    """Record a decision the customer gave on paper, by phone or in person."""

    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices)
    how = forms.ChoiceField(label=_("How it was given"), choices=ManualHow.choices)
    terms_version = forms.IntegerField(
        label=_("Terms version"),
        min_value=1,
        max_value=1_000_000,
        required=False,
        help_text=_(
            "The version of the consent text the customer was shown, in the customer's "
            "language. Needed when consent is given."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, customer, tenant, **kwargs):
        kwargs.setdefault("prefix", "consent-manual")
        super().__init__(*args, **kwargs)
        current = terms_current(language=_customer_language(customer, tenant))
        self.fields["terms_version"].initial = current.version if current else None
