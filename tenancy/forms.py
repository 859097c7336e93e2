from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiKeyScope, ReferenceEntry


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
