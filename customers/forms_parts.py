"""Forms of the card's parts: keys, designations, ID cards, files and links, activities.

Plain forms, not ModelForms: a ModelForm writes into the instance while it
validates, and the services must see the object as it was to record history.
The rules themselves live in the services; these forms only parse input.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.models import ReferenceEntry, ReferenceRegister

from .models import ActivityKind, Contact, Customer, KeyTypeRule
from .selectors import contacts_of
from .services.attachments import allowed_extensions


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def key_types():
    return ReferenceEntry.objects.filter(register=ReferenceRegister.KEY_TYPE, is_active=True)


def _entry_id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class KeyAddForm(forms.Form):
    """A key for the customer or one of its contacts.

    Once a key type is chosen (the "Show values" button reloads the page with
    it), a type with a value list offers exactly those values.
    """

    contact = forms.ModelChoiceField(
        label=_("Key for"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("The customer"),
    )
    key_type = forms.ModelChoiceField(label=_("Key type"), queryset=ReferenceEntry.objects.none())
    value = forms.CharField(label=_("Value"), max_length=100, required=False)

    def __init__(self, *args, customer: Customer, key_type_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts_of(customer)
        self.fields["key_type"].queryset = key_types()
        if self.is_bound:
            key_type_id = self.data.get(self.add_prefix("key_type"))
        entry = key_types().filter(pk=_entry_id(key_type_id)).first()
        if entry is None:
            return
        self.fields["key_type"].initial = entry.pk
        rule = KeyTypeRule.objects.filter(key_type=entry).first()
        if rule is not None and rule.allowed_values:
            self.fields["value"] = forms.ChoiceField(
                label=_("Value"),
                choices=[("", "---------")] + [(v, v) for v in rule.allowed_values],
                required=False,
            )


class KeyTypeRuleForm(forms.Form):
    allow_multiple = forms.BooleanField(
        label=_("May occur several times per customer or contact"), required=False
    )
    allowed_values = forms.CharField(
        label=_("Allowed values"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("One value per line. Leave empty for free text."),
    )

    def clean_allowed_values(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_values"].splitlines()]


class DesignationForm(forms.Form):
    text = forms.CharField(label=_("Designation"), max_length=100)


class IdCardForm(forms.Form):
    number = forms.CharField(label=_("Card number"), max_length=40)
    card_type = forms.CharField(label=_("Card type"), max_length=40, required=False)
    default_consignee = forms.ModelChoiceField(
        label=_("Default consignee"), queryset=None, required=False
    )
    reference = forms.CharField(label=_("Your reference"), max_length=100, required=False)
    designation = forms.CharField(label=_("Your designation"), max_length=100, required=False)
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None, required=False)
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DateInput)
    valid_to = forms.DateField(label=_("Valid to"), required=False, widget=DateInput)
    block_code = forms.CharField(label=_("Block code"), max_length=10, required=False)
    info = forms.CharField(
        label=_("Information"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    pin = forms.CharField(
        label=_("PIN"),
        required=False,
        max_length=12,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
        help_text=_("4 to 12 digits. Stored hashed; it cannot be shown again."),
    )
    remove_pin = forms.BooleanField(label=_("Remove the PIN"), required=False)

    FIELDS = (
        "number",
        "card_type",
        "default_consignee",
        "reference",
        "designation",
        "warehouse",
        "valid_from",
        "valid_to",
        "block_code",
        "info",
    )

    def __init__(self, *args, customer: Customer, card=None, **kwargs):
        if card is not None and "initial" not in kwargs:
            links = ("default_consignee", "warehouse")
            kwargs["initial"] = {
                name: getattr(card, f"{name}_id" if name in links else name) for name in self.FIELDS
            }
        super().__init__(*args, **kwargs)
        self.fields["default_consignee"].queryset = customer.consignees.all()
        self.fields["warehouse"].queryset = ReferenceEntry.objects.filter(
            register=ReferenceRegister.WAREHOUSE, is_active=True
        )
        if card is None or not card.pin_hash:
            del self.fields["remove_pin"]

    def service_kwargs(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.FIELDS}
        pin = self.cleaned_data.get("pin") or None
        if self.cleaned_data.get("remove_pin"):
            pin = ""
        data["pin"] = pin
        return data


class AttachmentFileForm(forms.Form):
    file = forms.FileField(label=_("File"))
    name = forms.CharField(
        label=_("Name"), max_length=200, required=False, help_text=_("Empty: the file's name.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(allowed_extensions())


class AttachmentLinkForm(forms.Form):
    url = forms.CharField(
        label=_("Link"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=ActivityKind.choices, widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput)
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )

    def __init__(self, *args, customer: Customer, kind: str, **kwargs):
        kwargs.setdefault("auto_id", f"{kind}_%s")
        kwargs.setdefault("initial", {"kind": kind})
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["contact"].queryset = contacts_of(customer)
        if kind != ActivityKind.TASK:
            del self.fields["due_date"]


class RegistryUpdateForm(forms.Form):
    """One checkbox per field the registry would change."""

    def __init__(self, *args, proposals, **kwargs):
        super().__init__(*args, **kwargs)
        for proposal in proposals:
            if proposal.changes:
                self.fields[proposal.field] = forms.BooleanField(
                    label=proposal.label, required=False, initial=True
                )

    def chosen(self) -> list[str]:
        return [name for name, value in self.cleaned_data.items() if value]
