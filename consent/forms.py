from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.models import LANGUAGE_CHOICES

from .models import ConsentSettings


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


class ConsentSettingsForm(forms.ModelForm):
    class Meta:
        model = ConsentSettings
        fields = ["request_valid_days"]
