"""Sales documents reported by the ERP: what a customer was offered, sold, invoiced and paid.

Deliberately small: enough to know a customer's last activity, open balance and whether
it is a prospect. The customer's name and address are kept *as printed on* the document
(a snapshot, personal data: ``sales/pii.py``), not a link to the live address.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from tenancy.models import TenantOwnedModel


class DocumentKind(models.TextChoices):
    QUOTE = "quote", _("Quote")
    ORDER = "order", _("Order")
    DELIVERY = "delivery", _("Delivery")
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    PAYMENT = "payment", _("Payment")
    CASE = "case", _("Case")


# Kinds whose amount and open balance may be negative (money owed *to* the customer).
NEGATIVE_ALLOWED = frozenset({DocumentKind.CREDIT_NOTE, DocumentKind.PAYMENT})


class DocumentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class SalesDocument(TenantOwnedModel):
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=40)
    date = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=6, choices=DocumentStatus.choices, default=DocumentStatus.OPEN
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    balance = models.DecimalField(_("open balance"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217, e.g. SEK"))
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="sales_documents",
    )
    # As printed on the document.
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sales document")
        verbose_name_plural = _("sales documents")
        ordering = ["-date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "number"], name="salesdocument_number_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "customer", "status"], name="salesdocument_customer_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"
