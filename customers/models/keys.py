"""Keys (searchable tags with types), predefined designations and customer ID cards."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import ReferenceEntry, TenantOwnedModel

from .common import R, Tracked, register_link
from .consignee import Consignee
from .contact import Contact
from .customer import Customer


class KeyTypeRule(TenantOwnedModel):
    """How a key type (an entry of the key-type register) may be used."""

    key_type = models.ForeignKey(
        ReferenceEntry,
        on_delete=models.CASCADE,
        related_name="key_rules",
        limit_choices_to={"register": R.KEY_TYPE},
    )
    allow_multiple = models.BooleanField(_("may occur several times per customer"), default=False)
    allowed_values = ArrayField(
        models.CharField(max_length=100),
        verbose_name=_("allowed values"),
        default=list,
        blank=True,
        help_text=_("Empty: free text."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key_type"], name="key_type_rule_uniq")
        ]

    def __str__(self) -> str:
        return str(self.key_type)


class CustomerKey(TenantOwnedModel, Tracked):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="keys")
    key_type = register_link(R.KEY_TYPE, _("key type"))
    value = models.CharField(_("value"), max_length=100)

    class Meta:
        ordering = ["key_type__code", "value"]

    def __str__(self) -> str:
        return f"{self.key_type}: {self.value}"


class ContactKey(TenantOwnedModel, Tracked):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="keys")
    key_type = register_link(R.KEY_TYPE, _("key type"))
    value = models.CharField(_("value"), max_length=100)

    class Meta:
        ordering = ["key_type__code", "value"]

    def __str__(self) -> str:
        return f"{self.key_type}: {self.value}"


class PredefinedDesignation(TenantOwnedModel):
    """A "your designation" the customer may pick from on orders (seed 003)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="designations")
    text = models.CharField(_("designation"), max_length=100)

    class Meta:
        ordering = ["text"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer", "text"], name="designation_text_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.text


class CustomerIdCard(TenantOwnedModel, Tracked):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="id_cards")
    number = models.CharField(_("card number"), max_length=40)
    card_type = models.CharField(_("card type"), max_length=40, blank=True)
    default_consignee = models.ForeignKey(
        Consignee,
        verbose_name=_("default consignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    designation = models.CharField(_("designation"), max_length=100, blank=True)
    warehouse = register_link(R.WAREHOUSE, _("warehouse"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    block_code = models.CharField(_("block code"), max_length=10, blank=True)
    pin_hash = models.CharField(_("PIN (hashed)"), max_length=128, blank=True, editable=False)
    info = models.TextField(_("information"), blank=True)

    class Meta:
        verbose_name = _("customer ID card")
        verbose_name_plural = _("customer ID cards")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="id_card_number_uniq")
        ]

    def __str__(self) -> str:
        return self.number
