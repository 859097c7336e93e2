"""Roles and what each may do. One map, read by views, the API and templates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    BOOKKEEPER = "bookkeeper", _("Bookkeeper")
    STAFF = "staff", _("Office staff")
    EMPLOYEE = "employee", _("Employee")


class Perm:
    """Permission names. Strings so templates can ask for them too."""

    REGISTRY_VIEW = "registry.view"
    REGISTRY_EDIT = "registry.edit"
    CUSTOMER_PICK = "customer.pick"
    FINANCE_VIEW = "finance.view"
    FINANCE_EDIT = "finance.edit"
    CONSENT_REQUEST = "consent.request"
    CONSENT_TERMS_EDIT = "consent.terms_edit"
    REPORTS_VIEW = "reports.view"
    ANONYMIZE = "anonymization.run"
    DELETE_CUSTOMER = "customer.delete"
    RETENTION_EDIT = "retention.edit"
    SETTINGS_EDIT = "settings.edit"
    USERS_MANAGE = "users.manage"
    API_KEYS_MANAGE = "api_keys.manage"
    AUDIT_VIEW = "audit.view"


_STAFF = {
    Perm.REGISTRY_VIEW,
    Perm.REGISTRY_EDIT,
    Perm.CUSTOMER_PICK,
    Perm.CONSENT_REQUEST,
    Perm.REPORTS_VIEW,
}
_BOOKKEEPER = _STAFF | {
    Perm.FINANCE_VIEW,
    Perm.FINANCE_EDIT,
    Perm.ANONYMIZE,
    Perm.DELETE_CUSTOMER,
    Perm.AUDIT_VIEW,
}
_ADMIN = _BOOKKEEPER | {
    Perm.CONSENT_TERMS_EDIT,
    Perm.RETENTION_EDIT,
    Perm.SETTINGS_EDIT,
    Perm.USERS_MANAGE,
    Perm.API_KEYS_MANAGE,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(_ADMIN),
    Role.BOOKKEEPER: frozenset(_BOOKKEEPER),
    Role.STAFF: frozenset(_STAFF),
    Role.EMPLOYEE: frozenset({Perm.CUSTOMER_PICK}),
}


# Each opens at least one page of the settings area (templates/settings/_menu.html).
SETTINGS_AREA_PERMS = frozenset(
    {
        Perm.SETTINGS_EDIT,
        Perm.CONSENT_TERMS_EDIT,
        Perm.RETENTION_EDIT,
        Perm.USERS_MANAGE,
        Perm.API_KEYS_MANAGE,
    }
)


def role_has_perm(role: str, perm: str) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())
