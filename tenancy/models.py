"""Tenants, who belongs to them, and what every tenant-owned row stands on."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from .branding import validate_brand_colour
from .roles import Role, role_has_perm

LANGUAGE_CHOICES = [("en", "English"), ("sv", "Svenska"), ("da", "Dansk"), ("nb", "Norsk bokmål")]


def tenant_logo_path(instance: Tenant, filename: str) -> str:
    # Under the tenant's own prefix, like customer files; the extension follows the
    # checked content type, not the uploaded name.
    ext = ".png" if filename.lower().endswith(".png") else ".jpg"
    return f"tenants/{instance.pk}/brand/logo{ext}"


class Tenant(models.Model):
    """A company using Kundreg. A platform table: the tenant is the scope itself."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. SE"))
    languages = ArrayField(
        models.CharField(max_length=5, choices=LANGUAGE_CHOICES),
        verbose_name=_("languages"),
        default=list,
        help_text=_("The first one is the default for customers without a language."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Stockholm")
    fiscal_year_end_month = models.PositiveSmallIntegerField(
        _("fiscal year end month"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    fiscal_year_end_day = models.PositiveSmallIntegerField(
        _("fiscal year end day"),
        default=31,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The look of the pages customers see (the consent page): tenancy/branding.py.
    brand_colour = models.CharField(
        _("brand colour"),
        max_length=7,
        blank=True,
        validators=[validate_brand_colour],
        help_text=_("For the pages your customers see, e.g. #1a6b4f."),
    )
    logo = models.FileField(
        _("logo"),
        upload_to=tenant_logo_path,
        blank=True,
        max_length=200,
        help_text=_("PNG or JPEG, at most 500 kB. Shown on the pages your customers see."),
    )
    # Two-factor sign-in for the roles that can export and erase everything (tenancy/mfa.py).
    require_mfa = models.BooleanField(
        _("require two-factor sign-in for administrators and bookkeepers"),
        default=False,
        db_default=False,  # old code still running during a deploy inserts tenants without it
        help_text=_(
            "They must set up an authenticator app and enter a code from it each time they sign in."
        ),
    )

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

    def clean(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc


class Membership(models.Model):
    """A user's role in one tenant.

    A platform table (no row security): the middleware must list a user's
    tenants before any tenant is active, exactly like the user table itself.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_user_tenant_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    def has_perm(self, perm: str) -> bool:
        return self.is_active and role_has_perm(self.role, perm)


class TenantOwnedModel(models.Model):
    """Base of every tenant-owned table.

    The default manager refuses to query without an active tenant scope
    (django-scopes), and a migration puts row-level security on the table
    (``tenancy.rls.EnableRowLevelSecurity``); the ``rls`` system check fails
    when that migration is missing.
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="+", editable=False, db_index=True
    )

    objects = ScopedManager(tenant="tenant")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.tenant_id is None:
            from .context import require_tenant

            self.tenant = require_tenant()
        super().save(*args, **kwargs)


class ReferenceRegister(models.TextChoices):
    """The lookup lists the registry's fields pick from."""

    PAYMENT_TERMS = "payment_terms", _("Payment terms")
    INVOICE_TYPE = "invoice_type", _("Invoice types")
    DELIVERY_TERMS = "delivery_terms", _("Delivery terms")
    DELIVERY_METHOD = "delivery_method", _("Delivery methods")
    DISTRICT = "district", _("Districts")
    BUSINESS_AREA = "business_area", _("Business areas")
    CUSTOMER_TYPE = "customer_type", _("Customer types")
    CUSTOMER_GROUP = "customer_group", _("Customer groups")
    CONTACT_TITLE = "contact_title", _("Contact titles")
    CONTACT_ROLE = "contact_role", _("Contact roles")
    KEY_TYPE = "key_type", _("Key types")
    PRICE_LIST = "price_list", _("Price lists")
    DISCOUNT_GROUP = "discount_group", _("Discount groups")
    WAREHOUSE = "warehouse", _("Warehouses")
    RESULT_UNIT = "result_unit", _("Result units")
    RESPONSIBILITY_AREA = "responsibility_area", _("Responsibility areas")


class ReferenceEntry(TenantOwnedModel):
    """One entry of a reference register, e.g. payment terms "30 days net"."""

    register = models.CharField(_("register"), max_length=40, choices=ReferenceRegister.choices)
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=250, blank=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reference entry")
        verbose_name_plural = _("reference entries")
        ordering = ["register", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "register", "code"], name="reference_entry_code_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class NumberSeries(TenantOwnedModel):
    """Next free number of a series (customers, contacts, ...), drawn under a row lock."""

    key = models.CharField(_("series"), max_length=40)
    next_value = models.PositiveBigIntegerField(_("next number"), default=1)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="number_series_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.next_value}"


class ApiKeyScope(models.TextChoices):
    CUSTOMERS_READ = "customers:read", _("Read customers")
    # Number and name only, for systems that book hours against customers (issue 14, 12).
    CUSTOMERS_PICK = "customers:pick", _("Pick customers (number and name only)")
    CUSTOMERS_WRITE = "customers:write", _("Write customers")
    CONSENT_WRITE = "consent:write", _("Request and record consent")
    CONSENT_ADMIN = "consent:admin", _("Publish consent terms")
    SALES_WRITE = "sales:write", _("Report sales documents")
    ANONYMIZATION_READ = "anonymization:read", _("Read anonymization runs")
    AUDIT_READ = "audit:read", _("Read the audit log")


class ApiKeyManager(BaseAPIKeyManager):
    pass


class ApiKey(AbstractAPIKey, TenantOwnedModel):
    """A tenant's API key. Only a SHA-512 hash of the key is stored; it is shown once."""

    scopes = ArrayField(
        models.CharField(max_length=40, choices=ApiKeyScope.choices),
        verbose_name=_("scopes"),
        default=list,
        blank=True,
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ScopedManager(_manager_class=ApiKeyManager, tenant="tenant")

    # The prefix is a global lookup handle: a key is found before its tenant is known.
    globally_unique_fields = ("prefix",)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def scope_labels(self) -> list[str]:
        return [str(ApiKeyScope(s).label) for s in self.scopes if s in ApiKeyScope.values]


class IdempotencyRecord(TenantOwnedModel):
    """The first answer to a POST carrying an Idempotency-Key, replayed for repeats."""

    key = models.CharField(max_length=200)
    principal = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "principal", "key"], name="idempotency_record_key_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.key
