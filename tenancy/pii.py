"""Personal-data classification of the tenancy app's models (and the user table it manages)."""

from django.contrib.auth import get_user_model

from anonymization.registry import NOT_PERSONAL, Scrub, personal, pii

from .models import ApiKey, IdempotencyRecord, Membership, NumberSeries, ReferenceEntry, Tenant

ND = NOT_PERSONAL

pii.register(
    Tenant,
    id=ND,
    name=ND,
    slug=ND,
    country=ND,
    languages=ND,
    time_zone=ND,
    fiscal_year_end_month=ND,
    fiscal_year_end_day=ND,
    is_active=ND,
    created_at=ND,
    brand_colour=ND,
    logo=ND,
    require_mfa=ND,
)
pii.register(Membership, id=ND, user=ND, tenant=ND, role=ND, is_active=ND, created_at=ND)
pii.register(
    ReferenceEntry,
    id=ND,
    tenant=ND,
    register=ND,
    code=ND,
    name=ND,
    description=ND,
    sort_order=ND,
    is_active=ND,
)
pii.register(NumberSeries, id=ND, tenant=ND, key=ND, next_value=ND)
pii.register(
    ApiKey,
    id=ND,
    prefix=ND,
    hashed_key=ND,
    created=ND,
    name=ND,
    revoked=ND,
    expiry_date=ND,
    tenant=ND,
    scopes=ND,
    last_used_at=ND,
    created_by=ND,
)
pii.register(
    IdempotencyRecord,
    id=ND,
    tenant=ND,
    key=ND,
    principal=ND,
    method=ND,
    path=ND,
    request_hash=ND,
    response_status=ND,
    created_at=ND,
    # The stored answer may echo a customer; records live IDEMPOTENCY_KEY_TTL_HOURS.
    response_body=personal(Scrub.DELETE_ROW, note="purged hourly after the TTL"),
)

# Users are staff of the tenant, not customers; their data leaves with the account.
_staff = "staff member's account; removed with the account, not by customer erasure"
pii.register(
    get_user_model(),
    id=ND,
    password=ND,
    last_login=ND,
    is_superuser=ND,
    is_staff=ND,
    is_active=ND,
    date_joined=ND,
    groups=ND,
    user_permissions=ND,
    username=personal(Scrub.REPLACE, "deleted-user", note=_staff),
    first_name=personal(Scrub.BLANK, note=_staff),
    last_name=personal(Scrub.BLANK, note=_staff),
    email=personal(Scrub.BLANK, note=_staff),
)

# Two-factor sign-in (tenancy/mfa.py): staff accounts' devices, removed with the account
# (CASCADE) or by a reset. Secrets, but no personal data; the device names are ours.
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

_device = {
    "id": ND,
    "user": ND,
    "name": ND,
    "confirmed": ND,
    "created_at": ND,
    "last_used_at": ND,
    "throttling_failure_timestamp": ND,
    "throttling_failure_count": ND,
}
pii.register(
    TOTPDevice, **_device, key=ND, step=ND, t0=ND, digits=ND, tolerance=ND, drift=ND, last_t=ND
)
pii.register(StaticDevice, **_device)
pii.register(StaticToken, id=ND, device=ND, token=ND)
