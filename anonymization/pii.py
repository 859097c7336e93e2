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
from .registry import NOTES_FILES, Scrub, personal, pii

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
    auto_anonymize_prospects=ND,
    updated_at=ND,
)
pii.register(
    LegalHold,
    id=ND,
    tenant=ND,
    customer=ND,
    # Free text about the customer's dispute or claim: the tenant's data about a person.
    reason=personal(
        Scrub.BLANK,
        note="free text about the customer; blanked with it",
        category=NOTES_FILES,
        free_text=True,
    ),
    set_by=ND,  # staff accounts, as consent's published_by
    set_at=ND,
    lifted_by=ND,
    lifted_at=ND,
)
pii.reach(LegalHold, "customer")

# --- Anonymization runs (anonymization.models_runs): counts, codes and ids only ---------

from .models import AnonymizationRun, AnonymizationRunItem  # noqa: E402

pii.register(
    AnonymizationRun,
    id=ND,
    tenant=ND,
    source=ND,
    status=ND,
    categories=ND,
    # About the run ("yearly clean-up"); the form asks staff to name no one in it.
    note=ND,
    total=ND,
    anonymized=ND,
    skipped=ND,
    counts=ND,
    residue=ND,
    files_deleted=ND,
    error=ND,
    created_at=ND,
    started_at=ND,
    finished_at=ND,
    worked_at=ND,
    created_by=ND,
    actor_type=ND,
    actor_id=ND,
)
pii.register(AnonymizationRunItem, id=ND, tenant=ND, run=ND, customer=ND, outcome=ND, reason=ND)

# --- Mass deletion runs (anonymization.models_deletion): counts, codes and ids only -----

from .models import DeletionRun, DeletionRunItem  # noqa: E402

pii.register(
    DeletionRun,
    id=ND,
    tenant=ND,
    status=ND,
    # The proposal's filters without the free-text search: a date, a status, entry ids.
    criteria=ND,
    # About the run ("customers without purchases since 2018"); the form asks staff to
    # name no one in it.
    note=ND,
    total=ND,
    excluded=ND,
    deleted=ND,
    skipped=ND,
    counts=ND,
    files_deleted=ND,
    error=ND,
    created_at=ND,
    started_at=ND,
    finished_at=ND,
    worked_at=ND,
    created_by=ND,
    actor_type=ND,
    actor_id=ND,
)
# The customer's id as a plain number: the customer row is gone, the id names no one.
pii.register(DeletionRunItem, id=ND, tenant=ND, run=ND, customer_id=ND, outcome=ND, reason=ND)

# --- The free-text scan's needles (anonymization.models_scan) ----------------------------

from .models import ErasureNeedle  # noqa: E402

# Names, emails and phones of people being erased, kept from a run's chunk to its scan
# (minutes) and deleted by the scan in the transaction that redacts; a single erasure
# never commits them. They reach no customer: nothing erases them but the scan.
_needle = personal(Scrub.DELETE_ROW, note="transient: deleted by the free-text scan")
pii.register(
    ErasureNeedle,
    id=ND,
    tenant=ND,
    batch=ND,
    category=ND,
    kind=ND,
    pattern=_needle,
    literal=_needle,
    first=_needle,
    second=_needle,
    key=_needle,
)
