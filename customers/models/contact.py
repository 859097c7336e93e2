from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import ReferenceEntry, TenantOwnedModel

from .common import R, Tracked, link_tenant, register_link
from .customer import Customer

DELETED_CONTACT = _("Deleted contact")


class Contact(TenantOwnedModel, Tracked):
    """A contact person; one person may be linked to several customers.

    Deleting keeps the row as a tombstone with every personal field emptied,
    so everything that pointed at it shows "Deleted contact"; documents
    already issued keep the name they printed (their own snapshot).
    """

    number = models.PositiveIntegerField(_("contact number"))
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    title = register_link(R.CONTACT_TITLE, _("title"))
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    blocked = models.BooleanField(_("blocked for purchases"), default=False)
    keywords = ArrayField(
        models.CharField(max_length=50), verbose_name=_("keywords"), default=list, blank=True
    )
    roles = models.ManyToManyField(
        ReferenceEntry,
        through="ContactRoleLink",
        verbose_name=_("roles"),
        blank=True,
        related_name="+",
        limit_choices_to={"register": R.CONTACT_ROLE},
    )
    customers = models.ManyToManyField(
        Customer, through="CustomerContact", related_name="contacts", blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="contact_number_uniq")
        ]

    def __str__(self) -> str:
        return str(DELETED_CONTACT) if self.is_deleted else self.full_name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def full_name(self) -> str:
        if self.is_deleted:
            return str(DELETED_CONTACT)
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class CustomerContact(TenantOwnedModel):
    """The link between a contact and one of its customers."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer", "contact"], name="customer_contact_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}↔{self.contact_id}"


class ContactRoleLink(TenantOwnedModel):
    """A contact's role (an entry of the contact-role register); ``Contact.roles``' table."""

    tenant = link_tenant()
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(ReferenceEntry, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact", "role"], name="contact_role_link_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}:{self.role_id}"
