"""The customer: the card's sections, as PENGVIN's "Hantera kunder" lists them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import LANGUAGE_CHOICES, ReferenceEntry, TenantOwnedModel

from .common import R, Tracked, link_tenant, register_link, user_link


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    ANONYMIZED = "anonymized", _("Anonymized")


# Field groups, for permissions (finance) and for the card's collapsible sections.
FINANCE_FIELDS = (
    "invoice_type",
    "invoicing_fee",
    "payment_terms",
    "credit_limit_amount",
    "credit_limit_days",
    "bankgiro",
    "plusgiro",
    "bank_account",
    "receivables_account",
    "result_unit",
    "responsibility_area",
    "cost_account",
    "cost_result_unit",
)


class Customer(TenantOwnedModel, Tracked):
    # Number and name
    number = models.CharField(_("customer number"), max_length=20)
    kind = models.CharField(
        _("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.COMPANY
    )
    name = models.CharField(_("name"), max_length=200)

    # Contact details
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    fax = models.CharField(_("fax"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES, blank=True)
    country = models.CharField(_("country"), max_length=2, default="SE")

    # Identities
    org_number = models.CharField(_("organisation number"), max_length=30, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=30, blank=True)
    edi_reference = models.CharField(
        _("EDI/GLN reference"), max_length=30, blank=True, help_text=_("GLN/EAN or SE number")
    )

    # Invoicing and credit (finance)
    invoice_type = register_link(R.INVOICE_TYPE, _("invoice type"))
    invoicing_fee = models.BooleanField(_("charge invoicing fee"), default=False)
    payment_terms = register_link(R.PAYMENT_TERMS, _("payment terms"))
    credit_limit_amount = models.DecimalField(
        _("credit limit"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    credit_limit_days = models.PositiveIntegerField(_("credit limit days"), null=True, blank=True)
    bankgiro = models.CharField(_("bankgiro"), max_length=20, blank=True)
    plusgiro = models.CharField(_("plusgiro"), max_length=20, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)

    # Pricing
    price_list = register_link(R.PRICE_LIST, _("price list"))
    alt_price_list_1 = register_link(R.PRICE_LIST, _("alternative price list 1"))
    alt_price_list_2 = register_link(R.PRICE_LIST, _("alternative price list 2"))
    alt_price_list_3 = register_link(R.PRICE_LIST, _("alternative price list 3"))
    discount_group = register_link(R.DISCOUNT_GROUP, _("discount group"))
    temp_discount_group = register_link(R.DISCOUNT_GROUP, _("temporary discount group"))
    temp_discount_group_until = models.DateField(
        _("temporary discount group until"), null=True, blank=True
    )

    # Classification
    business_area = register_link(R.BUSINESS_AREA, _("business area"))
    district = register_link(R.DISTRICT, _("district"))
    industry_code = models.CharField(_("industry code (SNI/NACE)"), max_length=10, blank=True)
    customer_type = register_link(R.CUSTOMER_TYPE, _("customer type"))
    groups = models.ManyToManyField(
        ReferenceEntry,
        through="CustomerGroupLink",
        verbose_name=_("customer groups"),
        blank=True,
        related_name="+",
        limit_choices_to={"register": R.CUSTOMER_GROUP},
    )

    # Accounting (finance)
    receivables_account = models.CharField(_("receivables account"), max_length=20, blank=True)
    result_unit = register_link(R.RESULT_UNIT, _("result unit"))
    responsibility_area = register_link(R.RESPONSIBILITY_AREA, _("responsibility area"))
    cost_account = models.CharField(_("cost account"), max_length=20, blank=True)
    cost_result_unit = register_link(R.RESULT_UNIT, _("cost result unit"))

    # Handling rules for orders and deliveries
    designation_required = models.BooleanField(_("your designation required"), default=False)
    designation_from_list = models.BooleanField(_("your designation only from list"), default=False)
    reference_required = models.BooleanField(_("your reference required"), default=False)
    reference_from_list = models.BooleanField(_("your reference only from list"), default=False)
    consignee_required = models.BooleanField(_("consignee required"), default=False)
    consignee_from_list = models.BooleanField(_("consignee only from list"), default=False)

    # Other
    account_owner = user_link(_("account owner"))
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    retention_years = models.PositiveSmallIntegerField(
        _("retention override (years)"), null=True, blank=True
    )

    # Folded name, number, email, phone digits and identities (customers.search). A trigger
    # mirrors it into the trigram-indexed customers_search_private table (migration 0002).
    search_text = models.TextField(editable=False, default="")
    # The name as the tenant's language sorts it (customers.search.sort_key). The key puts
    # å/ä/ö/æ/ø after z as "{", "|", "}", which only byte order keeps there: a database
    # created in en_US.utf8 would ignore those characters, so the column says "C" itself.
    sort_name = models.CharField(max_length=200, editable=False, default="", db_collation="C")

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="customer_number_uniq")
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "sort_name"], name="customer_status_sort_idx"),
            models.Index(fields=["tenant", "last_activity_at"], name="customer_activity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def clean(self) -> None:
        # The same range as the tenant's periods (anonymization.models MIN_YEARS/MAX_YEARS);
        # checked here, not as field validators, to keep the schema unchanged.
        super().clean()
        years = self.retention_years
        if years is not None and not 1 <= years <= 20:
            raise ValidationError({"retention_years": _("Enter a number of years from 1 to 20.")})

    @property
    def head_office(self):
        return next((a for a in self.addresses.all() if a.is_head_office), None)


class CustomerGroupLink(TenantOwnedModel):
    """A customer's membership of a customer group (an entry of that reference register).

    The ``through`` table of ``Customer.groups``: tenant-owned like any other row, so
    row security and the tenant-bound foreign keys cover it.
    """

    tenant = link_tenant()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(ReferenceEntry, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer", "group"], name="customer_group_link_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.group_id}"
