"""Rules every registry service checks before it writes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import Customer, CustomerStatus


def require_editable(customer: Customer) -> None:
    """An anonymized customer is final: nothing may add personal data back to it."""
    if customer.status == CustomerStatus.ANONYMIZED:
        raise ValidationError(_("This customer is anonymized and can no longer be changed."))


def signed_in(user):
    """The user to record as creator or changer: a signed-in user, else None (system, API key)."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None
