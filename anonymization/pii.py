"""Classification of the framework's and third-party apps' tables.

They hold no customer data, but staff usernames and IP addresses are personal
data too; they are bounded by retention (sessions expire, axes records are
cleaned), not by customer erasure.
"""

from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from rest_framework_api_key.models import APIKey as LibraryApiKey

from .registry import NOT_PERSONAL as ND
from .registry import Scrub, personal, pii

_expires = "staff login data; expires with its retention, not with customer erasure"

pii.register(
    LibraryApiKey,  # the library's own table, unused: our keys are tenancy.ApiKey
    id=ND,
    prefix=ND,
    hashed_key=ND,
    created=ND,
    name=ND,
    revoked=ND,
    expiry_date=ND,
)
pii.register(ContentType, id=ND, app_label=ND, model=ND)
pii.register(Permission, id=ND, name=ND, content_type=ND, codename=ND)
pii.register(Group, id=ND, name=ND, permissions=ND)
pii.register(
    Session,
    session_key=ND,
    expire_date=ND,
    session_data=personal(Scrub.DELETE_ROW, note=_expires),
)
pii.register(AccessAttemptExpiration, access_attempt=ND, expires_at=ND)
for model in (AccessAttempt, AccessLog, AccessFailureLog):
    rules = {}
    for f in model._meta.get_fields():
        if f.auto_created and not f.concrete:
            continue
        if f.name in (
            "username",
            "ip_address",
            "user_agent",
            "http_accept",
            "path_info",
            "get_data",
            "post_data",
        ):
            rules[f.name] = personal(Scrub.DELETE_ROW, note=_expires)
        else:
            rules[f.name] = ND
    pii.register(model, **rules)

# --- Retention and legal holds (anonymization.models) ----------------------------------

from .models import LegalHold, RetentionPolicy  # noqa: E402  (after the framework's tables)

pii.register(
    RetentionPolicy,
    id=ND,
    tenant=ND,
    customer_years=ND,
    prospect_years=ND,
    preset=ND,
    updated_at=ND,
)
pii.register(
    LegalHold,
    id=ND,
    tenant=ND,
    customer=ND,
    # Free text about the customer's dispute or claim: the tenant's data about a person.
    reason=personal(Scrub.BLANK, note="free text about the customer; blanked with it"),
    set_by=ND,  # staff accounts, as consent's published_by
    set_at=ND,
    lifted_by=ND,
    lifted_at=ND,
)
