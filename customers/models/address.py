from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel

from .common import PostalAddress, Tracked
from .customer import Customer


class AddressKind(models.TextChoices):
    """What an address is for. Which address is the head office is ``is_head_office``
    alone: a kind never says it (it used to, and then disagreed with the flag)."""

    POSTAL = "postal", _("Postal address")
    VISITING = "visiting", _("Visiting address")
    INVOICE = "invoice", _("Invoice address")
    DELIVERY = "delivery", _("Delivery address")


class Address(TenantOwnedModel, PostalAddress, Tracked):
    """One of a customer's addresses. Exactly one is the head office (the first one added)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("kind"), max_length=12, choices=AddressKind.choices)
    is_head_office = models.BooleanField(_("head office"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_head_office", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer"],
                condition=Q(is_head_office=True),
                name="address_one_head_office",
            ),
            models.CheckConstraint(
                condition=~Q(kind="head_office"), name="address_kind_not_head_office"
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in (self.line1, self.postcode, self.city) if p)
