"""Phone numbers: checked with ``phonenumbers`` for a country, stored in E.164, shown nationally.

"070-123 45 67" typed for a Swedish customer is stored as ``+46701234567``, so an SMS
can go to it and search finds it in any form (customers/search.py indexes the national
digits too). On screen a number of the viewer's own country reads nationally
("070-123 45 67"), a foreign one internationally ("+47 412 34 567"). Numbers stored
before the check existed, which may not parse, are shown as they were typed.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenancy.context import current_tenant

# What a user is shown when a number does not parse: (national, international) per country.
EXAMPLES = {
    "SE": ("070-123 45 67", "+46 70 123 45 67"),
    "NO": ("412 34 567", "+47 412 34 567"),
    "DK": ("20 12 34 56", "+45 20 12 34 56"),
    "FI": ("040 123 4567", "+358 40 123 4567"),
}
PHONE_FIELDS = ("phone", "mobile", "fax")


def phone_clean(value: str, *, country: str) -> str:
    """``value`` in E.164, or a ValidationError saying how to write a number for ``country``.

    A number without a country code is read as one of ``country``; one with ``+`` or ``00``
    is taken as international.
    """
    value = (value or "").strip()
    if not value:
        return ""
    region = (country or "").upper() or None
    text = "+" + value[2:] if value.startswith("00") else value
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        national, international = EXAMPLES.get(region or "", EXAMPLES["SE"])
        if region in EXAMPLES:
            message = _(
                "This is not a valid phone number. "
                "Write it e.g. as %(national)s or %(international)s."
            )
            params = {"national": national, "international": international}
        else:
            message = _(
                "This is not a valid phone number. "
                "Write it with its country code, e.g. %(international)s."
            )
            params = {"international": international}
        raise ValidationError(message, code="invalid_phone", params=params)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phones_clean(obj, names, *, country: str) -> None:
    """Normalise the phone fields ``names`` of ``obj`` in place; field-level errors at once."""
    errors = {}
    for name in names:
        if name not in PHONE_FIELDS or not hasattr(obj, name):
            continue
        try:
            setattr(obj, name, phone_clean(getattr(obj, name), country=country))
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)


def form_phones_clean(form, *, country: str) -> None:
    """A form's phone fields checked with its other fields, so every error shows at once.

    A number left as the form showed it (one stored before the check existed) passes.
    """
    for name in PHONE_FIELDS:
        if name not in form.fields or form.has_error(name):
            continue
        value = form.cleaned_data.get(name) or ""
        if value == (form.initial.get(name) or ""):
            continue
        try:
            form.cleaned_data[name] = phone_clean(value, country=country)
        except ValidationError as exc:
            form.add_error(name, exc)


def phone_display(value: str, *, country: str | None = None) -> str:
    """A stored number as people write it: national for ``country`` (default: the tenant's)."""
    if not value or not value.startswith("+"):
        return value or ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if country is None:
        tenant = current_tenant()
        country = tenant.country if tenant is not None else ""
    if phonenumbers.region_code_for_number(number) == (country or "").upper():
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
