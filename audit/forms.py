from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ActorType

_LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"})


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False)
    actor_type = forms.ChoiceField(
        label=_("Actor type"), choices=[("", _("Any")), *ActorType.choices], required=False
    )
    object_type = forms.CharField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object id"), required=False)
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
