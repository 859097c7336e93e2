"""What the registry's REST API reads and writes (docs/api.md "Field names on a customer").

Input and output are separate serializers: outputs render what the caller may
see; inputs only parse and validate, and the views hand ``validated_data`` to
the services, which do all writing. A link to a reference register is the
entry's id, checked against the active tenant *and* the field's register.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from tenancy.countries import is_country_code
from tenancy.models import LANGUAGE_CHOICES, ReferenceEntry
from tenancy.models import ReferenceRegister as R
from tenancy.roles import Perm

from .models import (
    FINANCE_FIELDS,
    Address,
    AddressKind,
    Consignee,
    Contact,
    Customer,
    CustomerStatus,
)
from .permissions import api_key_of, can_edit_finance, can_see_finance, membership_of
from .selectors import SORTABLE

MAX_ID = 2**63 - 1
NOT_ALLOWED = _("You may not set this field.")

# ---------------------------------------------------------------------------
# Who may see and change what (customers/permissions.py decides; this applies it)


def finance_visible(request) -> bool:
    # An API key never sees finance fields, not even next to a bookkeeper's session cookie.
    return request is not None and api_key_of(request) is None and can_see_finance(request)


def finance_editable(request) -> bool:
    return request is not None and api_key_of(request) is None and can_edit_finance(request)


def retention_editable(request) -> bool:
    """The per-customer retention override belongs to those who set retention (admins)."""
    membership = membership_of(request) if request is not None else None
    return (
        membership is not None
        and api_key_of(request) is None
        and membership.has_perm(Perm.RETENTION_EDIT)
    )


def _describing_schema(serializer) -> bool:
    """drf-spectacular describes every field, whoever runs it."""
    return getattr(serializer.context.get("view"), "swagger_fake_view", False)


def _drop(fields, names) -> None:
    for name in names:
        fields.pop(name, None)


def _refuse(data, names) -> None:
    """A field the caller may not set is an error, not silently dropped."""
    if isinstance(data, Mapping):
        refused = sorted(name for name in names if name in data)
        if refused:
            raise serializers.ValidationError({name: [NOT_ALLOWED] for name in refused})


class FinanceOutputMixin:
    """Output: drop ``finance_fields`` unless the caller may see them."""

    finance_fields: tuple[str, ...] = ()

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if not (_describing_schema(self) or finance_visible(request)):
            _drop(fields, self.finance_fields)
        return fields


class FinanceInputMixin:
    """Input: ``finance_fields`` are refused unless the caller may change them."""

    finance_fields: tuple[str, ...] = ()

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if not (_describing_schema(self) or finance_editable(request)):
            _drop(fields, self.finance_fields)
        return fields

    def to_internal_value(self, data):
        if not finance_editable(self.context.get("request")):
            _refuse(data, self.finance_fields)
        return super().to_internal_value(data)


# ---------------------------------------------------------------------------
# Consent (the consent app comes later)

NO_CONSENT = {"status": "none", "terms_version": None, "decided_at": None, "method": None}


def consent_of(customer: Customer) -> dict:
    """The customer's consent state as docs/api.md shows it; the API's only source of it.

    customers/ may not import consent/ (docs/design.md): the consent app registers
    the provider in customers.hooks. Without it nobody has consented to anything.
    """
    from . import hooks

    provider = hooks.consent_status_provider
    return provider(customer) if provider is not None else dict(NO_CONSENT)


class ConsentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["none", "requested", "granted", "declined", "withdrawn", "expired"]
    )
    terms_version = serializers.IntegerField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    # consent.models.Method's values (customers sits below consent); an enum in the schema.
    method = serializers.ChoiceField(
        choices=["link", "sms_reply", "pos", "manual"], allow_null=True
    )


# ---------------------------------------------------------------------------
# Shared fields


class TenantObjectField(serializers.PrimaryKeyRelatedField):
    """The id of an object of the active tenant; any other id "does not exist"."""

    model = None

    def __init__(self, **kwargs):
        # none() names the model for the schema without a query; rows come from get_queryset.
        super().__init__(queryset=self.model.objects.none(), **kwargs)

    def get_queryset(self):
        return self.model.objects.all()

    def to_internal_value(self, data):
        # Only whole numbers: a float or "1e3" must not quietly become some other id.
        if not (
            (isinstance(data, int) and not isinstance(data, bool))
            or (isinstance(data, str) and data.isascii() and data.isdigit())
        ):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < int(data) <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class CustomerIdField(TenantObjectField):
    model = Customer


class ReferenceEntryField(TenantObjectField):
    """An entry of one reference register (payment terms, districts, ...)."""

    model = ReferenceEntry

    def __init__(self, register: str, **kwargs):
        self.register = register
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    @classmethod
    def many_init(cls, register: str, **kwargs):
        child = cls(register, allow_null=False)
        options = {k: v for k, v in kwargs.items() if k in MANY_RELATION_KWARGS}
        options.setdefault("required", False)
        return serializers.ManyRelatedField(child_relation=child, **options)

    def get_queryset(self):
        return ReferenceEntry.objects.filter(register=self.register)


def entry_id(**kwargs) -> serializers.PrimaryKeyRelatedField:
    """Output: a link to a reference entry as its id (read from the foreign key, no query)."""
    kwargs.setdefault("allow_null", True)
    if kwargs.get("read_only"):
        return serializers.PrimaryKeyRelatedField(**kwargs)
    return serializers.PrimaryKeyRelatedField(queryset=ReferenceEntry.objects.none(), **kwargs)


def optional_entry_id() -> serializers.PrimaryKeyRelatedField:
    """Output of a field that may be absent (finance): optional in the schema."""
    return entry_id(required=False)


class CountryField(serializers.RegexField):
    """An ISO 3166-1 alpha-2 country code, in either case ("XX" is none)."""

    def __init__(self, **kwargs):
        super().__init__(
            r"^[A-Za-z]{2}$",
            error_messages={
                "invalid": _("Give a two-letter country code, e.g. SE."),
                "unknown": _("No country has this code. Give an ISO 3166 code, e.g. SE."),
            },
            **kwargs,
        )

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if code and not is_country_code(code):
            self.fail("unknown")
        return code


# ---------------------------------------------------------------------------
# Addresses

ADDRESS_VALUES = ["kind", "line1", "line2", "postcode", "city", "country"]


class HeadOfficeSerializer(serializers.ModelSerializer):
    """The head office, as the customer shows it."""

    class Meta:
        model = Address
        fields = ["line1", "line2", "postcode", "city", "country"]
        read_only_fields = fields


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["id", *ADDRESS_VALUES, "is_head_office", "created_at", "updated_at"]
        read_only_fields = fields


@extend_schema_serializer(component_name="Address")  # input beside the output "Address"
class AddressInputSerializer(serializers.ModelSerializer):
    """An address. Without ``kind`` a customer's first address is its head office;
    without ``country``, the customer's."""

    country = CountryField(required=False)
    kind = serializers.ChoiceField(
        choices=[*AddressKind.choices, ("head_office", _("Head office"))],
        required=False,
        help_text=_(
            "Left out: postal. head_office makes the new address the head office (the "
            "address itself is then postal; is_head_office says which one is)."
        ),
    )

    class Meta:
        model = Address
        fields = ADDRESS_VALUES


# ---------------------------------------------------------------------------
# Customers

# docs/api.md "Field names on a customer", in its order; the card's other fields follow.
API_MD_FIELDS = [
    "id",
    "number",
    "kind",
    "name",
    "org_number",
    "vat_number",
    "email",
    "phone",
    "mobile",
    "language",
    "country",
    "address",
    "status",
    "last_activity_at",
    "retention_years",
    "consent",
    "created_at",
    "updated_at",
]
CUSTOMER_VALUES = [
    "number",
    "kind",
    "name",
    "org_number",
    "vat_number",
    "edi_reference",
    "email",
    "phone",
    "mobile",
    "fax",
    "website",
    "language",
    "country",
    "description",
    "industry_code",
    "temp_discount_group_until",
    "designation_required",
    "designation_from_list",
    "reference_required",
    "reference_from_list",
    "consignee_required",
    "consignee_from_list",
    "retention_years",
]
FINANCE_REFERENCES = [
    "invoice_type",
    "payment_terms",
    "result_unit",
    "responsibility_area",
    "cost_result_unit",
]
FINANCE_VALUES = [name for name in FINANCE_FIELDS if name not in FINANCE_REFERENCES]
CUSTOMER_REFERENCES = [
    "district",
    "business_area",
    "customer_type",
    "price_list",
    "alt_price_list_1",
    "alt_price_list_2",
    "alt_price_list_3",
    "discount_group",
    "temp_discount_group",
]


class LanguageField(serializers.ChoiceField):
    """A customer's language, null when none is set (stored as ""): an answer is always one
    of the enum's values or null, never a "" that a generated client's enum refuses. As
    input, null and "" both mean none."""

    blank_as_null = True  # config.api_schema: no "" in the answer's schema

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("The customer's language; null when none is set."))
        super().__init__(choices=LANGUAGE_CHOICES, allow_null=True, **kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return (True, "")
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return value or None


class CustomerSerializer(FinanceOutputMixin, serializers.ModelSerializer):
    """A customer. Finance fields are absent for callers without the finance right
    (API keys never have it)."""

    finance_fields = FINANCE_FIELDS

    address = HeadOfficeSerializer(
        source="head_office", read_only=True, allow_null=True, help_text=_("The head office.")
    )
    language = LanguageField(read_only=True)
    consent = serializers.SerializerMethodField()
    groups = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    district = entry_id(read_only=True)
    business_area = entry_id(read_only=True)
    customer_type = entry_id(read_only=True)
    price_list = entry_id(read_only=True)
    alt_price_list_1 = entry_id(read_only=True)
    alt_price_list_2 = entry_id(read_only=True)
    alt_price_list_3 = entry_id(read_only=True)
    discount_group = entry_id(read_only=True)
    temp_discount_group = entry_id(read_only=True)
    # Finance (never used for input; not read-only only so the schema marks them optional)
    invoice_type = optional_entry_id()
    payment_terms = optional_entry_id()
    result_unit = optional_entry_id()
    responsibility_area = optional_entry_id()
    cost_result_unit = optional_entry_id()

    class Meta:
        model = Customer
        fields = [
            *API_MD_FIELDS[:-2],
            *(f for f in CUSTOMER_VALUES if f not in API_MD_FIELDS),
            "groups",
            *CUSTOMER_REFERENCES,
            *FINANCE_FIELDS,
            *API_MD_FIELDS[-2:],
        ]
        read_only_fields = [f for f in fields if f not in FINANCE_FIELDS]
        extra_kwargs = {name: {"required": False} for name in FINANCE_VALUES}

    @staticmethod
    def get_consent(customer) -> ConsentSerializer:  # type: ignore[valid-type]
        return ConsentSerializer(consent_of(customer)).data


@extend_schema_serializer(component_name="Customer")  # input beside the output "Customer"
class CustomerUpdateSerializer(FinanceInputMixin, serializers.ModelSerializer):
    """Changes to a customer. Finance fields need the finance right (never an API key's).

    ``status`` may be made ``active`` or ``inactive``. ``retention_years`` (the
    retention override) may be changed only by those who edit retention; for
    everyone else it is read-only. Addresses change under ``addresses/``.
    """

    finance_fields = FINANCE_FIELDS

    number = serializers.CharField(max_length=20, required=False)
    country = CountryField(required=False)
    language = LanguageField(required=False, allow_blank=True)
    # All three values, as in the output (one enum in the schema); the service refuses anonymized.
    status = serializers.ChoiceField(
        choices=CustomerStatus.choices,
        required=False,
        help_text=_("active or inactive; an anonymized customer cannot be changed back."),
    )
    groups = ReferenceEntryField(R.CUSTOMER_GROUP, many=True)
    district = ReferenceEntryField(R.DISTRICT)
    business_area = ReferenceEntryField(R.BUSINESS_AREA)
    customer_type = ReferenceEntryField(R.CUSTOMER_TYPE)
    price_list = ReferenceEntryField(R.PRICE_LIST)
    alt_price_list_1 = ReferenceEntryField(R.PRICE_LIST)
    alt_price_list_2 = ReferenceEntryField(R.PRICE_LIST)
    alt_price_list_3 = ReferenceEntryField(R.PRICE_LIST)
    discount_group = ReferenceEntryField(R.DISCOUNT_GROUP)
    temp_discount_group = ReferenceEntryField(R.DISCOUNT_GROUP)
    invoice_type = ReferenceEntryField(R.INVOICE_TYPE)
    payment_terms = ReferenceEntryField(R.PAYMENT_TERMS)
    result_unit = ReferenceEntryField(R.RESULT_UNIT)
    responsibility_area = ReferenceEntryField(R.RESPONSIBILITY_AREA)
    cost_result_unit = ReferenceEntryField(R.RESULT_UNIT)

    class Meta:
        model = Customer
        fields = [*CUSTOMER_VALUES, "status", "groups", *CUSTOMER_REFERENCES, *FINANCE_FIELDS]
        extra_kwargs = {
            "retention_years": {
                "help_text": _(
                    "Retention override in years (null: the tenant's period). "
                    "Only users who may edit retention can change it."
                )
            }
        }

    def get_fields(self):
        fields = super().get_fields()
        if not (_describing_schema(self) or retention_editable(self.context.get("request"))):
            _drop(fields, ["retention_years"])
        return fields


@extend_schema_serializer(component_name="Customer")  # input beside the output "Customer"
class CustomerCreateSerializer(CustomerUpdateSerializer):
    """A new customer. Without ``number``, the next one of the tenant's series; without
    ``country``, the tenant's. ``address`` becomes its first address (the head office)."""

    number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    status = None  # a new customer is active
    address = AddressInputSerializer(required=False, allow_null=True)

    class Meta(CustomerUpdateSerializer.Meta):
        fields = [
            *(f for f in CustomerUpdateSerializer.Meta.fields if f != "status"),
            "address",
        ]


# The most ids one bulk lookup (``ids=``) takes: a page's worth.
MAX_IDS = 100
# A "+" in an unencoded query string arrives as a space: "…T10:00:00 01:00".
_SPACE_FOR_PLUS = re.compile(r"^(\S+T\S+) (\d\d(:?\d\d)?)$")


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must say its offset (a sync watermark must not depend on the
    server's time zone)."""

    default_error_messages = {
        "invalid": _("Enter a date and time in ISO 8601 with an offset, e.g. {example}."),
        "naive": _("Give the time's offset (e.g. +01:00 or Z): a time without one is ambiguous."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            value = _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
            try:
                parsed = parse_datetime(value) if "T" in value or " " in value else None
            except ValueError:  # well-formed but impossible ("2026-13-40T…")
                parsed = None
            if parsed is None:
                self.fail("invalid", example="2026-11-30T08:00:00+01:00")
            if parsed.tzinfo is None:
                self.fail("naive")
            try:
                # In UTC: PostgreSQL takes offsets up to ±15:59 only ("-20:33" parses here).
                return parsed.astimezone(UTC)
            except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
                self.fail("invalid", example="2026-11-30T08:00:00+01:00")
        self.fail("invalid", example="2026-11-30T08:00:00+01:00")


class IdListField(serializers.CharField):
    """``1,2,3``: whole numbers that could be ids, at most MAX_IDS, duplicates dropped."""

    default_error_messages = {
        "not_id": _("{value} is not an id: give whole numbers separated by commas."),
        "too_many": _("At most {max} ids at a time (got {count})."),
        "empty": _("Give at least one id."),
    }

    def get_value(self, dictionary):
        # An empty "ids=" is no "no filter" (as an empty parameter is elsewhere): a client
        # that joined an empty list would otherwise get the whole register.
        if self.field_name in dictionary and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data) -> list[int]:
        text = super().to_internal_value(data)
        parts = [part.strip() for part in text.split(",")]
        if not any(parts):
            self.fail("empty")
        ids = []
        for part in parts:
            if not (part.isascii() and part.isdigit()) or not 0 < int(part) <= MAX_ID:
                self.fail("not_id", value=repr(part[:20]))
            ids.append(int(part))
        ids = list(dict.fromkeys(ids))
        if len(ids) > MAX_IDS:
            self.fail("too_many", max=MAX_IDS, count=len(ids))
        return ids


class CustomerListParamsSerializer(serializers.Serializer):
    """The customer list's query parameters."""

    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("Name, number, email, phone or org number; accent- and case-insensitive."),
    )
    number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text=_("In any format.")
    )
    status = serializers.ChoiceField(
        choices=[*CustomerStatus.values, "all"],
        default=CustomerStatus.ACTIVE,
        help_text=_("active (the default), inactive, anonymized, or all."),
    )
    district = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    group = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    business_area = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    last_activity_before = serializers.DateTimeField(
        required=False,
        help_text=_("ISO 8601 date or time; customers without any activity are included."),
    )
    ordering = serializers.ChoiceField(choices=list(SORTABLE), default="name")
    updated_since = AwareDateTimeField(
        required=False,
        help_text=_(
            "Incremental sync: only customers changed (their own fields or their head office) "
            "at or after this time, ISO 8601 with an offset (URL-encode the +). Use the time "
            "before your previous sync started. With it, status defaults to all."
        ),
    )
    ids = IdListField(
        required=False,
        help_text=_(
            "Bulk lookup: comma-separated customer ids, at most %(max)s. Ids that do not "
            "exist for you are left out. With it, status defaults to all."
        )
        % {"max": MAX_IDS},
    )

    def validate_status(self, value):
        return None if value == "all" else value

    def validate(self, attrs):
        # A sync or a lookup by id must see inactive and anonymized customers too, unless
        # the caller narrows it.
        narrowed = "updated_since" in attrs or "ids" in attrs
        if narrowed and "status" not in getattr(self, "initial_data", {}):
            attrs["status"] = None
        return attrs


# ---------------------------------------------------------------------------
# Contacts

CONTACT_VALUES = [
    "first_name",
    "last_name",
    "mobile",
    "phone",
    "email",
    "line1",
    "line2",
    "postcode",
    "city",
    "blocked",
    "keywords",
]
# What describes the person: never shown for a deleted contact.
CONTACT_PERSONAL = [*CONTACT_VALUES, "title", "roles"]


class ContactSerializer(serializers.ModelSerializer):
    """A contact person. A deleted one keeps only its number and "Deleted contact"."""

    name = serializers.CharField(source="full_name", read_only=True)
    is_deleted = serializers.BooleanField(read_only=True)
    # Not read-only so the schema marks them optional: a deleted contact has none.
    title = optional_entry_id()
    roles = serializers.PrimaryKeyRelatedField(
        many=True, queryset=ReferenceEntry.objects.none(), required=False
    )
    customers = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "number",
            "name",
            *CONTACT_VALUES,
            "title",
            "roles",
            "is_active",
            "is_deleted",
            "customers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in CONTACT_PERSONAL]
        extra_kwargs = {name: {"required": False} for name in CONTACT_VALUES}

    def to_representation(self, contact):
        data = super().to_representation(contact)
        if contact.is_deleted:
            _drop(data, CONTACT_PERSONAL)
        return data

    @staticmethod
    def get_customers(contact) -> list[int]:
        """The customers this person is a contact of."""
        return sorted(link.customer_id for link in contact.links.all())


@extend_schema_serializer(component_name="Contact")  # input beside the output "Contact"
class ContactUpdateSerializer(serializers.ModelSerializer):
    title = ReferenceEntryField(R.CONTACT_TITLE)
    roles = ReferenceEntryField(R.CONTACT_ROLE, many=True)

    class Meta:
        model = Contact
        fields = [*CONTACT_VALUES, "title", "roles", "is_active"]


@extend_schema_serializer(component_name="Contact")  # input beside the output "Contact"
class ContactCreateSerializer(ContactUpdateSerializer):
    """A new contact of this customer; without ``number``, the next of the tenant's series."""

    number = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    class Meta(ContactUpdateSerializer.Meta):
        fields = ["number", *CONTACT_VALUES, "title", "roles"]


class ContactLinkSerializer(serializers.Serializer):
    customer = CustomerIdField(help_text=_("The customer to link the contact to."))


# ---------------------------------------------------------------------------
# Consignees

CONSIGNEE_VALUES = [
    "number",
    "name",
    "reference",
    "phone",
    "fax",
    "email",
    "line1",
    "line2",
    "postcode",
    "city",
    "country",
    "blocked",
    "discount_percent",
    "account",
]
CONSIGNEE_REFERENCES = [
    "delivery_terms",
    "delivery_method",
    "price_list",
    "discount_group",
    "additional_discount_group",
    "district",
    "warehouse",
]
# The customer's finance fields of the same name are finance here too.
CONSIGNEE_FINANCE = ("invoice_type", "result_unit")


class ConsigneeSerializer(FinanceOutputMixin, serializers.ModelSerializer):
    finance_fields = CONSIGNEE_FINANCE

    delivery_terms = entry_id(read_only=True)
    delivery_method = entry_id(read_only=True)
    price_list = entry_id(read_only=True)
    discount_group = entry_id(read_only=True)
    additional_discount_group = entry_id(read_only=True)
    district = entry_id(read_only=True)
    warehouse = entry_id(read_only=True)
    invoice_type = optional_entry_id()
    result_unit = optional_entry_id()

    class Meta:
        model = Consignee
        fields = [
            "id",
            *CONSIGNEE_VALUES,
            *CONSIGNEE_REFERENCES,
            *CONSIGNEE_FINANCE,
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in CONSIGNEE_FINANCE]


@extend_schema_serializer(component_name="Consignee")  # input beside the output "Consignee"
class ConsigneeUpdateSerializer(FinanceInputMixin, serializers.ModelSerializer):
    finance_fields = CONSIGNEE_FINANCE

    number = serializers.CharField(max_length=20, required=False)
    country = CountryField(required=False)
    delivery_terms = ReferenceEntryField(R.DELIVERY_TERMS)
    delivery_method = ReferenceEntryField(R.DELIVERY_METHOD)
    price_list = ReferenceEntryField(R.PRICE_LIST)
    discount_group = ReferenceEntryField(R.DISCOUNT_GROUP)
    additional_discount_group = ReferenceEntryField(R.DISCOUNT_GROUP)
    district = ReferenceEntryField(R.DISTRICT)
    warehouse = ReferenceEntryField(R.WAREHOUSE)
    invoice_type = ReferenceEntryField(R.INVOICE_TYPE)
    result_unit = ReferenceEntryField(R.RESULT_UNIT)

    class Meta:
        model = Consignee
        fields = [*CONSIGNEE_VALUES, *CONSIGNEE_REFERENCES, *CONSIGNEE_FINANCE]


@extend_schema_serializer(component_name="Consignee")  # input beside the output "Consignee"
class ConsigneeCreateSerializer(ConsigneeUpdateSerializer):
    """A new consignee; without ``number``, the customer's next free one; without
    ``country``, the customer's."""

    number = serializers.CharField(max_length=20, required=False, allow_blank=True)
