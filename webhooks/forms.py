from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EventType


class EndpointForm(forms.Form):
    # A plain CharField: the service checks the address (scheme, public host) with its own
    # translated messages, so the form does not answer first with a different one.
    url = forms.CharField(label=_("URL"), max_length=500)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
