"""Browser forms of the customer card.

Forms only parse and check input; the services in ``customers/services`` make
the change. They are plain ``forms.Form`` built from the model's fields (not
ModelForms): a ModelForm would write the values into the instance before the
service takes its "before" snapshot, and the change history would miss them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from tenancy.context import require_tenant
from tenancy.countries import is_country_code
from tenancy.forms import apply_service_errors
from tenancy.models import LANGUAGE_CHOICES, ReferenceEntry

from .models import FINANCE_FIELDS, Address, AddressKind, Consignee, Contact, Customer
from .phones import PHONE_FIELDS, form_phones_clean, phone_display

# The registry's views call it by this name.
apply_errors = apply_service_errors

MAX_INT = 2_147_483_647


def _user_label(user) -> str:
    return user.get_full_name() or user.email or user.username


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _user_label(obj)


class CountryField(forms.ChoiceField):
    """A country chosen by its name in the UI language; its ISO 3166 code is stored.

    A typed code is taken in either case ("se"), so the API-like forms of scripts work
    too; anything that is no country ("XX", "Sverige") is refused.
    """

    def __init__(self, *, required: bool = True, **kwargs):
        kwargs.pop("max_length", None)
        super().__init__(choices=_country_choices, required=required, **kwargs)

    def to_python(self, value):
        return (super().to_python(value) or "").strip().upper()

    def validate(self, value):
        if value and not is_country_code(value):
            raise ValidationError(_("Choose a country from the list."), code="invalid_choice")
        super().validate(value)


def _country_choices():
    # Evaluated at render, so the names are in the active language and sorted by them.
    return [("", "---------"), *((code, name) for code, name in countries if code)]


class KeywordsField(forms.CharField):
    """Keywords as one comma-separated line."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate keywords with commas."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value):
        text = super().clean(value) or ""
        words = []
        for word in (w.strip() for w in text.split(",")):
            if not word or word in words:
                continue
            if len(word) > 50:
                raise ValidationError(
                    _("A keyword may have at most 50 characters: %(word)s…") % {"word": word[:20]},
                    code="max_length",
                )
            words.append(word)
        if len(words) > 50:
            raise ValidationError(_("Give at most 50 keywords."), code="max_count")
        return words


def _register_queryset(model_field, current) -> object:
    """Active entries of the field's register (the tenant's own: the manager is scoped),
    plus the entries currently chosen even when they have been made inactive."""
    register = model_field.remote_field.limit_choices_to["register"]
    keep = [c.pk for c in current if c is not None]
    return ReferenceEntry.objects.filter(register=register).filter(
        Q(is_active=True) | Q(pk__in=keep)
    )


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    form_field = model_field.formfield(**kwargs)
    # Range limits (e.g. discount 0-100 %, the column's integer range) are checked at the
    # field, together with the form's other errors, not only later by the service.
    if form_field is not None:
        for validator in model_field.validators:
            if isinstance(validator, MinValueValidator | MaxValueValidator) and not any(
                type(v) is type(validator) and v.limit_value == validator.limit_value
                for v in form_field.validators
            ):
                form_field.validators.append(validator)
    return form_field


def tenant_members(tenant):
    """Users of ``tenant`` (a platform table, so filtered by membership here)."""
    return (
        get_user_model()
        .objects.filter(memberships__tenant=tenant, memberships__is_active=True)
        .order_by("first_name", "last_name", "username")
        .distinct()
    )


def model_fields(model, names, *, instance=None, tenant=None) -> dict[str, forms.Field]:
    """Form fields for ``names`` of ``model``, with choices limited to the tenant's entries."""
    built = forms.fields_for_model(
        model, fields=names, apply_limit_choices_to=False, formfield_callback=_formfield
    )
    for name in names:
        model_field = model._meta.get_field(name)
        target = getattr(model_field, "related_model", None)
        if target is ReferenceEntry:
            if model_field.many_to_many:
                current = list(getattr(instance, name).all()) if instance and instance.pk else []
                built[name] = forms.ModelMultipleChoiceField(
                    queryset=_register_queryset(model_field, current),
                    required=False,
                    label=built[name].label,
                    widget=forms.CheckboxSelectMultiple,
                )
            else:
                current = [getattr(instance, name)] if instance is not None else []
                built[name].queryset = _register_queryset(model_field, current)
        elif target is not None and target is get_user_model():
            built[name] = MemberChoiceField(
                queryset=tenant_members(tenant), required=False, label=built[name].label
            )
        elif model_field.get_internal_type() == "DateField":
            built[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        elif name == "country":
            built[name] = CountryField(label=built[name].label, required=not model_field.blank)
        elif name == "description":
            built[name].widget = forms.Textarea(attrs={"rows": 4})
    return built


def initial_of(instance, names) -> dict:
    if instance is None or instance.pk is None:
        return {}
    initial = forms.model_to_dict(instance, fields=names)
    # Numbers are stored in E.164 but edited as people write them ("070-123 45 67").
    country = getattr(instance, "country", None) or None
    for name in PHONE_FIELDS:
        if initial.get(name):
            initial[name] = phone_display(initial[name], country=country)
    return initial


@dataclass
class Section:
    """A collapsible group of a form's fields (a <details> element on the page).

    Iterable like a form, so ``_form.html`` renders it.
    """

    key: str
    title: str
    fields: list = field(default_factory=list)
    open: bool = False

    def __iter__(self):
        return iter(self.fields)

    def non_field_errors(self) -> list:
        return []

    @property
    def has_errors(self) -> bool:
        return any(f.errors for f in self.fields)


class SectionedForm(forms.Form):
    """A form whose fields are grouped into named, collapsible sections."""

    SECTIONS: tuple[tuple[str, object, tuple[str, ...]], ...] = ()

    def sections(self, open_section: str = "") -> list[Section]:
        result = []
        for index, (key, title, names) in enumerate(self.SECTIONS):
            bound = [self[name] for name in names if name in self.fields]
            if not bound:
                continue
            section = Section(key=key, title=title, fields=bound)
            section.open = (
                section.has_errors or key == open_section or (not open_section and index == 0)
            )
            result.append(section)
        return result

    def changed_values(self) -> dict:
        """Cleaned values of the enabled fields (disabled ones are never passed on)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and not self.fields[name].disabled
        }


# --- customers ------------------------------------------------------------------------

CUSTOMER_SECTIONS = (
    ("number", _("Number and name"), ("number", "kind", "name")),
    (
        "contact",
        _("Contact"),
        ("phone", "mobile", "fax", "email", "website", "language", "country"),
    ),
    ("identities", _("Identities"), ("org_number", "vat_number", "edi_reference")),
    (
        "invoicing",
        _("Invoicing and credit"),
        (
            "invoice_type",
            "invoicing_fee",
            "payment_terms",
            "credit_limit_amount",
            "credit_limit_days",
            "plusgiro",
            "bankgiro",
            "bank_account",
        ),
    ),
    (
        "pricing",
        _("Pricing"),
        (
            "price_list",
            "alt_price_list_1",
            "alt_price_list_2",
            "alt_price_list_3",
            "discount_group",
            "temp_discount_group",
            "temp_discount_group_until",
        ),
    ),
    (
        "classification",
        _("Classification"),
        ("business_area", "district", "industry_code", "customer_type", "groups"),
    ),
    (
        "accounting",
        _("Accounting"),
        (
            "receivables_account",
            "result_unit",
            "responsibility_area",
            "cost_account",
            "cost_result_unit",
        ),
    ),
    (
        "handling",
        _("Handling rules"),
        (
            "designation_required",
            "designation_from_list",
            "reference_required",
            "reference_from_list",
            "consignee_required",
            "consignee_from_list",
        ),
    ),
    ("other", _("Other"), ("account_owner", "description", "retention_years")),
)
CUSTOMER_FIELDS = tuple(name for _key, _title, names in CUSTOMER_SECTIONS for name in names)


class CustomerSettingsForm(SectionedForm):
    """Every field of the card. Finance fields exist only for those who may see them,
    so a value posted by anyone else is never read."""

    SECTIONS = CUSTOMER_SECTIONS

    def __init__(
        self,
        *args,
        customer: Customer,
        tenant,
        finance_visible: bool,
        finance_editable: bool,
        retention_editable: bool,
        **kwargs,
    ):
        names = [n for n in CUSTOMER_FIELDS if finance_visible or n not in FINANCE_FIELDS]
        if not retention_editable:
            names.remove("retention_years")
        kwargs.setdefault("initial", initial_of(customer, names))
        super().__init__(*args, **kwargs)
        self.fields.update(model_fields(Customer, names, instance=customer, tenant=tenant))
        if not finance_editable:
            for name in FINANCE_FIELDS:
                if name in self.fields:
                    self.fields[name].disabled = True
        self.customer = customer

    def clean(self):
        cleaned = super().clean()
        form_phones_clean(self, country=cleaned.get("country") or self.customer.country)
        return cleaned


class CustomerCreateForm(forms.Form):
    """The first things a new customer needs; the rest is on the card's Settings tab."""

    NAMES = ("number", "kind", "name", "org_number", "vat_number", "email", "phone", "mobile")

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(model_fields(Customer, list(self.NAMES), tenant=tenant))
        number = self.fields["number"]
        number.required = False
        number.help_text = _("Leave empty to take the next number from the number series.")
        self.fields["country"] = CountryField(label=_("Country"), initial=tenant.country)
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"), choices=[("", "---------"), *LANGUAGE_CHOICES], required=False
        )
        self.tenant = tenant

    def clean(self):
        cleaned = super().clean()
        form_phones_clean(self, country=cleaned.get("country") or self.tenant.country)
        return cleaned


# --- addresses ------------------------------------------------------------------------

ADDRESS_NAMES = ("kind", "line1", "line2", "postcode", "city", "country")


class AddressForm(forms.Form):
    def __init__(self, *args, address: Address | None = None, optional: bool = False, **kwargs):
        kwargs.setdefault("initial", initial_of(address, ADDRESS_NAMES))
        super().__init__(*args, **kwargs)
        self.optional = optional
        self.fields.update(model_fields(Address, list(ADDRESS_NAMES), instance=address))
        self.fields["country"].required = False
        self.fields["country"].help_text = _("Empty: the customer's country.")
        if optional:
            self.fields["kind"].required = False

    def is_empty(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(n) for n in ADDRESS_NAMES if n not in ("kind", "country"))

    def clean(self):
        cleaned = super().clean()
        lines = [cleaned.get(n) for n in ("line1", "line2", "postcode", "city")]
        if self.optional and not any(lines):
            return cleaned
        if not (cleaned.get("line1") or cleaned.get("city")) and not self.has_error("line1"):
            self.add_error("line1", _("Give at least an address line or a city."))
        # Only the first address may go without a kind: it becomes the head office.
        if not self.optional and not cleaned.get("kind") and not self.has_error("kind"):
            self.add_error("kind", _("Choose what kind of address this is."))
        return cleaned


class HeadOfficeForm(forms.Form):
    address = forms.ModelChoiceField(
        label=_("New head office"), queryset=Address.objects.none(), widget=forms.RadioSelect
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        kwargs.setdefault("auto_id", "id_head_office_%s")
        super().__init__(*args, **kwargs)
        self.fields["address"].queryset = customer.addresses.filter(is_head_office=False)
        self.fields["address"].label_from_instance = lambda a: (
            f"{AddressKind(a.kind).label}: {a}" if a.kind in AddressKind.values else str(a)
        )


# --- contacts -------------------------------------------------------------------------

CONTACT_NAMES = (
    "first_name",
    "last_name",
    "title",
    "mobile",
    "phone",
    "email",
    "line1",
    "line2",
    "postcode",
    "city",
    "blocked",
)


class ContactForm(forms.Form):
    def __init__(self, *args, contact: Contact | None = None, **kwargs):
        names = [*CONTACT_NAMES, "roles"]
        initial = initial_of(contact, names)
        if contact is not None:
            initial["keywords"] = contact.keywords
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if contact is None:
            self.fields["number"] = forms.IntegerField(
                label=_("Contact number"),
                required=False,
                min_value=1,
                max_value=MAX_INT,
                help_text=_("Leave empty to take the next number from the number series."),
            )
        self.fields.update(model_fields(Contact, names, instance=contact))
        self.fields["keywords"] = KeywordsField(label=_("Keywords"))

    def clean(self):
        cleaned = super().clean()
        named = cleaned.get("first_name") or cleaned.get("last_name")
        if not named and not self.has_error("last_name"):
            self.add_error("last_name", _("Give the contact a name."))
        form_phones_clean(self, country=require_tenant().country)
        return cleaned


class ContactLinkForm(forms.Form):
    """Link an existing contact, found by its number, to this customer."""

    number = forms.IntegerField(label=_("Contact number"), min_value=1, max_value=MAX_INT)

    def __init__(self, *args, **kwargs):
        # Its own ids: the card's tabs swap in other forms with a "number" field.
        kwargs.setdefault("auto_id", "id_link_%s")
        super().__init__(*args, **kwargs)

    def clean_number(self):
        number = self.cleaned_data["number"]
        contact = Contact.objects.filter(number=number).first()
        if contact is None:
            raise ValidationError(_("No contact has the number %(n)s.") % {"n": number})
        if contact.is_deleted:
            raise ValidationError(_("This contact has been deleted."))
        self.contact = contact
        return number


class CustomerLinkForm(forms.Form):
    """Link this contact to another customer, found by the customer's number."""

    number = forms.CharField(label=_("Customer number"), max_length=20)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_customer_link_%s")
        super().__init__(*args, **kwargs)

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        customer = Customer.objects.filter(number=number).first()
        if customer is None:
            raise ValidationError(_("No customer has the number %(n)s.") % {"n": number})
        self.customer = customer
        return number


# --- consignees -----------------------------------------------------------------------

CONSIGNEE_SECTIONS = (
    ("name", _("Receiver and name"), ("number", "name")),
    ("address", _("Address"), ("line1", "line2", "postcode", "city", "country")),
    ("contact", _("Contact"), ("reference", "phone", "fax", "email")),
    (
        "handling",
        _("Handling"),
        ("invoice_type", "delivery_terms", "delivery_method", "blocked"),
    ),
    (
        "pricing",
        _("Pricing"),
        ("price_list", "discount_group", "additional_discount_group", "discount_percent"),
    ),
    (
        "classification",
        _("Classification"),
        ("district", "warehouse", "salesperson", "order_handler"),
    ),
    ("posting", _("Result posting on delivery"), ("account", "result_unit")),
)
CONSIGNEE_FIELDS = tuple(name for _key, _title, names in CONSIGNEE_SECTIONS for name in names)


class ConsigneeForm(SectionedForm):
    SECTIONS = CONSIGNEE_SECTIONS

    def __init__(self, *args, consignee: Consignee | None = None, tenant, **kwargs):
        names = list(CONSIGNEE_FIELDS)
        kwargs.setdefault("initial", initial_of(consignee, names))
        super().__init__(*args, **kwargs)
        self.fields.update(model_fields(Consignee, names, instance=consignee, tenant=tenant))
        self.fields["country"].required = False
        if consignee is None:
            self.fields["number"].required = False
            self.fields["number"].help_text = _("Leave empty for the next free number.")

    def clean_number(self):
        return (self.cleaned_data.get("number") or "").strip()

    def clean(self):
        cleaned = super().clean()
        form_phones_clean(self, country=cleaned.get("country") or require_tenant().country)
        return cleaned
