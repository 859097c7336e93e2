from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel

from .common import PostalAddress, R, Tracked, register_link, user_link
from .customer import Customer


class Consignee(TenantOwnedModel, PostalAddress, Tracked):
    """A goods receiver (PENGVIN "Godsmottagare"); its settings override the customer's."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consignees")
    number = models.CharField(_("consignee number"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    fax = models.CharField(_("fax"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    invoice_type = register_link(R.INVOICE_TYPE, _("invoice type"))
    delivery_terms = register_link(R.DELIVERY_TERMS, _("delivery terms"))
    delivery_method = register_link(R.DELIVERY_METHOD, _("delivery method"))
    blocked = models.BooleanField(
        _("blocked"), default=False, help_text=_("Kept for follow-up but not used in sales.")
    )
    price_list = register_link(R.PRICE_LIST, _("price list"))
    discount_group = register_link(R.DISCOUNT_GROUP, _("discount group"))
    additional_discount_group = register_link(R.DISCOUNT_GROUP, _("additional discount group"))
    discount_percent = models.DecimalField(
        _("discount percent"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    district = register_link(R.DISTRICT, _("district"))
    warehouse = register_link(R.WAREHOUSE, _("warehouse"))
    salesperson = user_link(_("salesperson"))
    order_handler = user_link(_("order handler"))
    account = models.CharField(_("account"), max_length=20, blank=True)
    result_unit = register_link(R.RESULT_UNIT, _("result unit"))

    class Meta:
        verbose_name = _("consignee")
        verbose_name_plural = _("consignees")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer", "number"], name="consignee_number_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"
