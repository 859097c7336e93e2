"""Pieces the registry's models share."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import ReferenceEntry, ReferenceRegister, Tenant


def register_link(register: str, verbose_name, **kwargs) -> models.ForeignKey:
    """A nullable link to an entry of one reference register."""
    return models.ForeignKey(
        ReferenceEntry,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"register": register},
        **kwargs,
    )


def user_link(verbose_name) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )


def current_tenant_id() -> int:
    """The active tenant's id: the default tenant of a many-to-many link row.

    ``customer.groups.set(...)`` and a form's ``save_m2m()`` create link rows with
    ``bulk_create``, which bypasses ``TenantOwnedModel.save()``; a field default
    reaches them. No tenant active: ``NoTenantError``, nothing written.
    """
    from tenancy.context import require_tenant

    return require_tenant().pk


def link_tenant() -> models.ForeignKey:
    """``TenantOwnedModel.tenant`` with the active tenant as its default, for link models."""
    return models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=True,
        default=current_tenant_id,
    )


class Tracked(models.Model):
    """Created and last changed, when and by whom (shown on the card and in modals)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = user_link(_("created by"))
    updated_by = user_link(_("updated by"))

    class Meta:
        abstract = True


class PostalAddress(models.Model):
    line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)

    class Meta:
        abstract = True


R = ReferenceRegister
