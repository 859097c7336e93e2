from datetime import UTC

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .describe import action_choices, find_object
from .models import ActorType
from .selectors import actor_choices

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
    """The audit page's filters (and the export's: the same query string).

    ``action`` is a select of the known actions, grouped; any other value (a link's
    prefix such as ``customer.``) still filters, as a prefix, and shows in the select.
    """

    who = forms.ChoiceField(label=_("Person"), required=False)
    action = forms.CharField(label=_("Action"), required=False, max_length=80)
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=20)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=80)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    actor_type = forms.ChoiceField(
        label=_("Actor type"),
        choices=[("", _("Any")), *ActorType.choices],
        required=False,
        widget=forms.HiddenInput,  # older links' filter; the person select replaces it
    )
    since = UtcDateTimeField(label=_("From"), required=False, widget=_LOCAL_TIME)
    until = UtcDateTimeField(label=_("Until"), required=False, widget=_LOCAL_TIME)

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["who"].choices = [("", _("Anyone")), *(actor_choices(tenant) if tenant else [])]
        actions = [("", _("Any action")), *action_choices()]
        wanted = (self.data.get("action") or "") if self.is_bound else ""
        known = {code for _group, options in actions[1:] for code, _label in options}
        if wanted and wanted not in known:
            actions.append((wanted, _("Starting with “%(prefix)s”") % {"prefix": wanted}))
        self.fields["action"].widget = forms.Select(choices=actions)

    def clean_customer(self):
        number = (self.cleaned_data.get("customer") or "").strip()
        if not number:
            return None
        customer_id = find_object("customer", number)
        if customer_id is None:
            raise ValidationError(_("No customer has this number."), code="unknown")
        return customer_id

    def filters(self) -> dict:
        """Keyword arguments of ``audit.selectors.audit_events`` (the valid filters only)."""
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        data["customer_id"] = data.pop("customer")
        return {k: v for k, v in data.items() if v not in (None, "")}

    def in_use(self) -> list[str]:
        """The names of the filters given (for the export's audit entry: no values)."""
        return sorted(self.filters())
