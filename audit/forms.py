from datetime import UTC

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import ActorType

_LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"})


class UtcDateTimeMixin:
    """A date-time field whose value is in UTC.

    Python takes UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: an offset in
    between reached the query and failed there. As UTC any instant is fine; one that
    has no UTC time in Python's range (year 1 or 9999 at the edge) is invalid input.
    """

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeField(UtcDateTimeMixin, forms.DateTimeField):
    pass


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False)
    actor_type = forms.ChoiceField(
        label=_("Actor type"), choices=[("", _("Any")), *ActorType.choices], required=False
    )
    object_type = forms.CharField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object id"), required=False)
    since = UtcDateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = UtcDateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
