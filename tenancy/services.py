"""Use cases of the tenancy app: tenants, members, API keys, number series, registers."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record

from .context import require_tenant, tenant_context
from .models import (
    ApiKey,
    ApiKeyScope,
    Membership,
    NumberSeries,
    ReferenceEntry,
    Tenant,
)
from .roles import Role

COUNTRY_LANGUAGES = {"SE": "sv", "DK": "da", "NO": "nb", "FI": "sv"}
COUNTRY_TIME_ZONES = {
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
}


# Letters slugify() would drop (it keeps only what decomposes to ASCII), spelled as the
# Nordic languages spell them without the letter: "Kæde ApS" -> "kaede-aps".
NORDIC_LETTERS = str.maketrans(
    {
        "æ": "ae",
        "ø": "oe",
        "å": "aa",
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "ð": "d",
        "þ": "th",
        "Æ": "Ae",
        "Ø": "Oe",
        "Å": "Aa",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "Ð": "D",
        "Þ": "Th",
    }
)


def tenant_slug(name: str) -> str:
    """The slug a company's name gives, Nordic letters transliterated."""
    return slugify(name.translate(NORDIC_LETTERS))


def _unique_slug(name: str) -> str:
    base = tenant_slug(name)[:50] or "tenant"
    slug, n = base, 2
    while Tenant.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def tenant_create(
    *,
    name: str,
    country: str,
    slug: str | None = None,
    languages: list[str] | None = None,
    admin_email: str | None = None,
    admin_password: str | None = None,
    actor: Actor | None = None,
) -> Tenant:
    """Create a tenant, optionally with its first admin user."""
    country = country.upper()
    local = COUNTRY_LANGUAGES.get(country)
    tenant = Tenant(
        name=name,
        slug=slug or _unique_slug(name),
        country=country,
        languages=languages or ([local, "en"] if local else ["en"]),
        time_zone=COUNTRY_TIME_ZONES.get(country, "Europe/Stockholm"),
    )
    tenant.full_clean()
    tenant.save()
    admin = None
    if admin_email:
        admin = user_get_or_create(email=admin_email, password=admin_password)
        Membership.objects.create(user=admin, tenant=tenant, role=Role.ADMIN)
    with tenant_context(tenant):
        audit_record(
            action="tenant.created",
            actor=actor or Actor.system("create_tenant"),
            object_type="tenant",
            object_id=tenant.pk,
            data={"country": country, "admin_user": admin.pk if admin else None},
        )
    return tenant


def user_get_or_create(*, email: str, password: str | None = None, username: str | None = None):
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=username or email.lower(), email=email.lower())
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user


def membership_add(*, tenant: Tenant, user, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    membership, _created = Membership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role, "is_active": True}
    )
    return membership


# --- API keys -------------------------------------------------------------------


def api_key_create(
    *, name: str, scopes: list[str], actor: Actor, created_by=None
) -> tuple[ApiKey, str]:
    """Create a key for the active tenant. Returns the row and the key, shown only now."""
    unknown = sorted(set(scopes) - set(ApiKeyScope.values))
    if unknown:
        raise ValidationError({"scopes": _("Unknown scope: %(s)s.") % {"s": ", ".join(unknown)}})
    if not scopes:  # a key without a scope is refused everywhere: useless, and confusing
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    if not name.strip():
        raise ValidationError({"name": _("Give the key a name.")})
    with transaction.atomic():
        key_obj, key = ApiKey.objects.create_key(
            name=name.strip(), scopes=sorted(set(scopes)), created_by=created_by
        )
        audit_record(
            action="api_key.created",
            actor=actor,
            object_type="api_key",
            object_id=key_obj.prefix,
            data={"scopes": key_obj.scopes},
        )
    return key_obj, key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: Actor) -> ApiKey:
    if not key.revoked:
        key.revoked = True
        key.save(update_fields=["revoked"])
        audit_record(
            action="api_key.revoked", actor=actor, object_type="api_key", object_id=key.prefix
        )
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record use, at most once a minute per key, so busy keys do not write on every call."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


# --- Number series ----------------------------------------------------------------


def number_draw(*, series: str, start: int = 1) -> int:
    """Draw the next number of the active tenant's series.

    One UPDATE ... RETURNING under the row lock it takes: two concurrent
    draws serialise on the row and can never return the same number.
    """
    tenant = require_tenant()
    # One statement: no savepoint needed (a tenant context's transaction is always open).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {NumberSeries._meta.db_table} (tenant_id, key, next_value)
            VALUES (%s, %s, %s)
            ON CONFLICT (tenant_id, key) DO UPDATE
                SET next_value = {NumberSeries._meta.db_table}.next_value + 1
            RETURNING next_value
            """,  # noqa: S608 - table name from the model, values parameterised
            [tenant.pk, series, start + 1],
        )
        (next_value,) = cursor.fetchone()
    return next_value - 1


def number_series_set_next(*, series: str, next_value: int, actor: Actor) -> NumberSeries:
    if next_value < 1:
        raise ValidationError({"next_value": _("The next number must be 1 or more.")})
    obj, _created = NumberSeries.objects.update_or_create(
        key=series, defaults={"next_value": next_value}
    )
    audit_record(
        action="number_series.changed",
        actor=actor,
        object_type="number_series",
        object_id=series,
        data={"next_value": next_value},
    )
    return obj


# --- Reference registers ------------------------------------------------------------


def reference_entry_save(
    *, entry: ReferenceEntry | None = None, actor: Actor, **fields
) -> ReferenceEntry:
    """Create or update an entry; a clear field-level error when the code is taken."""
    entry = entry or ReferenceEntry()
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.tenant = require_tenant()
    clash = ReferenceEntry.objects.filter(register=entry.register, code=entry.code).exclude(
        pk=entry.pk
    )
    if clash.exists():
        raise ValidationError({"code": _("This code is already used in this register.")})
    entry.full_clean(exclude=["tenant"])
    created = entry.pk is None
    with transaction.atomic():
        entry.save()
        audit_record(
            action="reference_entry.created" if created else "reference_entry.changed",
            actor=actor,
            object_type="reference_entry",
            object_id=entry.pk,
            data={"register": entry.register, "code": entry.code},
        )
    return entry


# --- Company settings and members --------------------------------------------------

TENANT_SETTINGS_FIELDS = (
    "name",
    "languages",
    "time_zone",
    "fiscal_year_end_month",
    "fiscal_year_end_day",
    "brand_colour",
    "logo",
    "require_mfa",  # two-factor sign-in for admins and bookkeepers (tenancy/mfa.py)
)


@transaction.atomic
def tenant_update(*, tenant: Tenant, actor: Actor, **fields) -> Tenant:
    """Change the active tenant's own settings (name, languages, time zone, fiscal year)."""
    if tenant != require_tenant():
        raise ValidationError(_("Only the active company can be changed."))
    changed = sorted(k for k, v in fields.items() if getattr(tenant, k) != v)
    for name in changed:
        if name not in TENANT_SETTINGS_FIELDS:
            raise ValidationError({name: _("This setting cannot be changed here.")})
        setattr(tenant, name, fields[name])
    tenant.full_clean()
    if changed:
        tenant.save(update_fields=changed)
        audit_record(
            action="tenant.settings_changed",
            actor=actor,
            object_type="tenant",
            object_id=tenant.pk,
            data={"fields": changed},
        )
    return tenant


@transaction.atomic
def member_invite(*, email: str, role: str, actor: Actor) -> tuple[Membership, bool]:
    """Add a user (created without a password when new) to the active tenant.

    Returns the membership and whether the user is new (and so needs an
    email to choose a password, which the view sends after commit).
    """
    tenant = require_tenant()
    User = get_user_model()
    is_new = not User.objects.filter(email__iexact=email).exists()
    user = user_get_or_create(email=email)
    if Membership.objects.filter(user=user, tenant=tenant, is_active=True).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    membership = membership_add(tenant=tenant, user=user, role=role)
    audit_record(
        action="member.added",
        actor=actor,
        object_type="membership",
        object_id=membership.pk,
        data={"role": role, "user": user.pk},
    )
    return membership, is_new


@transaction.atomic
def member_change(
    *, membership: Membership, actor: Actor, role: str | None = None, is_active: bool | None = None
) -> Membership:
    """Change a member's role or deactivate them; the last active admin cannot be removed."""
    if membership.tenant_id != require_tenant().pk:
        raise ValidationError(_("Not a member of this company."))
    new_role = role if role is not None else membership.role
    new_active = is_active if is_active is not None else membership.is_active
    if new_role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    losing_admin = membership.role == Role.ADMIN and (new_role != Role.ADMIN or not new_active)
    other_admins = Membership.objects.filter(
        tenant_id=membership.tenant_id, role=Role.ADMIN, is_active=True
    ).exclude(pk=membership.pk)
    if losing_admin and not other_admins.exists():
        raise ValidationError({"role": _("The company must keep at least one administrator.")})
    membership.role, membership.is_active = new_role, new_active
    membership.save(update_fields=["role", "is_active"])
    audit_record(
        action="member.changed",
        actor=actor,
        object_type="membership",
        object_id=membership.pk,
        data={"role": new_role, "is_active": new_active},
    )
    return membership
