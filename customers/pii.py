"""Personal-data classification of the registry.

Conservative: every name, address, number and free text that could identify
or describe a person is personal, for companies too (sole traders and
contact persons are people).
"""

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, Now
from django.utils import translation
from django.utils.translation import gettext

from anonymization.registry import (
    ADDRESSES,
    CONTACTS,
    IDENTITY,
    NAME,
    NOTES_FILES,
    PHONE_EMAIL,
    Scrub,
    personal,
    phone_needle,
    pii,
    text_needle,
)
from anonymization.registry import NOT_PERSONAL as ND
from config.bulk import AnyOf, update_rows

from .models import (
    Activity,
    Address,
    Attachment,
    ChangeRecord,
    Consignee,
    Contact,
    ContactKey,
    ContactRoleLink,
    Customer,
    CustomerContact,
    CustomerGroupLink,
    CustomerIdCard,
    CustomerKey,
    KeyTypeRule,
    PredefinedDesignation,
    SavedList,
    SelectionEntry,
)
from .search import customer_search_text, sort_key

TRACKED = {"created_at": ND, "updated_at": ND, "created_by": ND, "updated_by": ND}


def _p(category: str, scrub: Scrub = Scrub.BLANK, value=None, **kwargs):
    return personal(scrub, value, category=category, **kwargs)


def _postal(category: str) -> dict:
    return {
        "line1": _p(category),
        "line2": _p(category),
        "postcode": _p(category),
        "city": _p(category),
        "country": ND,
    }


def anonymized_label(language: str) -> str:
    """The word "Anonymized" in the tenant's language (consignees, documents)."""
    with translation.override(language):
        return gettext("Anonymized")


def anonymized_customer_name(language: str):
    """The customer's new name: "Anonymized" in the tenant's language and its number,
    as an expression, so one UPDATE names every customer of a chunk."""
    return Concat(Value(anonymized_label(language) + " "), F("number"), output_field=CharField())


def _customer_needles(customer: Customer):
    yield text_needle(NAME, customer.name)
    yield text_needle(PHONE_EMAIL, customer.email)
    for number in (customer.phone, customer.mobile, customer.fax):
        yield phone_needle(PHONE_EMAIL, number, customer.country)


def _contact_needles(contact: Contact):
    yield text_needle(CONTACTS, f"{contact.first_name} {contact.last_name}")
    yield text_needle(CONTACTS, contact.email)
    for number in (contact.phone, contact.mobile):
        yield phone_needle(CONTACTS, number)


def _rebuild_search(pks: list[int], language: str, done: dict | None = None) -> None:
    """The search text and sort key follow the scrubbed fields; a trigger refreshes the
    private search copy (customers_search_private) from them. ``done`` (the engine's mark,
    status anonymized) is set in the same UPDATE, so the trigger runs once a customer."""
    done = done or {}
    update_rows(
        Customer,
        ["search_text", "sort_name", *done],
        [
            (c.pk, customer_search_text(c), sort_key(c.name, language), *done.values())
            for c in Customer.objects.filter(AnyOf("pk", pks))
        ],
    )


pii.register(
    Customer,
    **TRACKED,
    id=ND,
    tenant=ND,
    number=ND,
    kind=ND,
    name=_p(NAME, Scrub.REPLACE, anonymized_customer_name),
    phone=_p(PHONE_EMAIL),
    mobile=_p(PHONE_EMAIL),
    fax=_p(PHONE_EMAIL),
    email=_p(PHONE_EMAIL),
    website=_p(PHONE_EMAIL),
    language=ND,
    country=ND,
    org_number=_p(IDENTITY),
    vat_number=_p(IDENTITY),
    edi_reference=_p(IDENTITY),
    invoice_type=ND,
    invoicing_fee=ND,
    payment_terms=ND,
    credit_limit_amount=ND,
    credit_limit_days=ND,
    bankgiro=_p(IDENTITY),
    plusgiro=_p(IDENTITY),
    bank_account=_p(IDENTITY),
    price_list=ND,
    alt_price_list_1=ND,
    alt_price_list_2=ND,
    alt_price_list_3=ND,
    discount_group=ND,
    temp_discount_group=ND,
    temp_discount_group_until=ND,
    business_area=ND,
    district=ND,
    industry_code=ND,
    customer_type=ND,
    groups=ND,
    receivables_account=ND,
    result_unit=ND,
    responsibility_area=ND,
    cost_account=ND,
    cost_result_unit=ND,
    designation_required=ND,
    designation_from_list=ND,
    reference_required=ND,
    reference_from_list=ND,
    consignee_required=ND,
    consignee_from_list=ND,
    account_owner=ND,
    description=_p(NOTES_FILES, free_text=True),
    status=ND,
    last_activity_at=ND,
    retention_years=ND,
    search_text=_p(NAME, Scrub.CUSTOM, note="rebuilt from the scrubbed fields"),
    sort_name=_p(NAME, Scrub.CUSTOM, note="rebuilt from the scrubbed name"),
)
# The data subject. The row stays, marked anonymized, so accounting references hold.
pii.subject(
    Customer, done={"status": "anonymized"}, after=_rebuild_search, needles=_customer_needles
)
pii.register(
    Address,
    **TRACKED,
    **_postal(ADDRESSES),
    id=ND,
    tenant=ND,
    customer=ND,
    kind=ND,
    is_head_office=ND,
)
pii.reach(Address, "customer")
pii.register(
    Contact,
    **TRACKED,
    id=ND,
    tenant=ND,
    number=ND,
    title=_p(CONTACTS, Scrub.NULL, note="a form of address (Mr, Ms, Dr) says something too"),
    blocked=ND,
    roles=ND,
    customers=ND,
    is_active=ND,
    deleted_at=ND,
    first_name=_p(CONTACTS),
    last_name=_p(CONTACTS),
    mobile=_p(CONTACTS),
    phone=_p(CONTACTS),
    email=_p(CONTACTS),
    line1=_p(CONTACTS),
    line2=_p(CONTACTS),
    postcode=_p(CONTACTS),
    city=_p(CONTACTS),
    keywords=_p(CONTACTS),
)
# A contact person may work for several customers: erased with the last of them (or when
# deleted), otherwise only unlinked. The row stays as "Deleted contact".
pii.reach(
    Contact,
    "customers",
    shared=True,
    mark={"deleted_at": Now(), "is_active": False},
    needles=_contact_needles,
)
pii.register(CustomerContact, id=ND, tenant=ND, customer=ND, contact=ND, created_at=ND)
pii.register(CustomerGroupLink, id=ND, tenant=ND, customer=ND, group=ND)
pii.register(ContactRoleLink, id=ND, tenant=ND, contact=ND, role=_p(CONTACTS, Scrub.DELETE_ROW))
pii.reach(ContactRoleLink, "contact", parent=Contact)
pii.register(
    Consignee,
    **TRACKED,
    **_postal(ADDRESSES),
    id=ND,
    tenant=ND,
    customer=ND,
    number=ND,
    name=_p(NAME, Scrub.REPLACE, anonymized_label),
    reference=_p(NAME),
    phone=_p(PHONE_EMAIL),
    fax=_p(PHONE_EMAIL),
    email=_p(PHONE_EMAIL),
    invoice_type=ND,
    delivery_terms=ND,
    delivery_method=ND,
    blocked=ND,
    price_list=ND,
    discount_group=ND,
    additional_discount_group=ND,
    discount_percent=ND,
    district=ND,
    warehouse=ND,
    salesperson=ND,
    order_handler=ND,
    account=ND,
    result_unit=ND,
)
pii.reach(Consignee, "customer")
pii.register(KeyTypeRule, id=ND, tenant=ND, key_type=ND, allow_multiple=ND, allowed_values=ND)
pii.register(
    CustomerKey,
    **TRACKED,
    id=ND,
    tenant=ND,
    customer=ND,
    key_type=ND,
    value=_p(IDENTITY, Scrub.DELETE_ROW),
)
pii.reach(CustomerKey, "customer")
pii.register(
    ContactKey,
    **TRACKED,
    id=ND,
    tenant=ND,
    contact=ND,
    key_type=ND,
    value=_p(CONTACTS, Scrub.DELETE_ROW),
)
pii.reach(ContactKey, "contact", parent=Contact)
pii.register(
    PredefinedDesignation,
    id=ND,
    tenant=ND,
    customer=ND,
    text=_p(NOTES_FILES, Scrub.DELETE_ROW),
)
pii.reach(PredefinedDesignation, "customer")
pii.register(
    CustomerIdCard,
    **TRACKED,
    id=ND,
    tenant=ND,
    customer=ND,
    number=ND,
    card_type=ND,
    default_consignee=ND,
    reference=_p(NAME),
    designation=_p(NAME),
    warehouse=ND,
    valid_from=ND,
    valid_to=ND,
    block_code=ND,
    pin_hash=_p(IDENTITY),
    info=_p(NOTES_FILES, free_text=True),
)
pii.reach(CustomerIdCard, "customer")
pii.register(
    Activity,
    **TRACKED,
    id=ND,
    tenant=ND,
    customer=ND,
    contact=ND,
    kind=ND,
    due_date=ND,
    done_at=ND,
    subject=_p(NOTES_FILES, Scrub.REPLACE, "—", free_text=True),
    body=_p(NOTES_FILES, free_text=True),
)
pii.reach(Activity, "customer")
pii.register(
    Attachment,
    **TRACKED,
    id=ND,
    tenant=ND,
    customer=ND,
    size=ND,
    content_type=ND,
    name=_p(NOTES_FILES, Scrub.DELETE_ROW),
    url=_p(NOTES_FILES, Scrub.DELETE_ROW),
    file=_p(NOTES_FILES, Scrub.DELETE_FILE, note="file removed after commit, with the row"),
)
pii.reach(Attachment, "customer")
# Field-level history: a row is scrubbed by the category of the field it records, and
# rows about an erased contact (or any erased object) in anyone's history too.
pii.register(
    ChangeRecord,
    id=ND,
    tenant=ND,
    customer=ND,
    object_type=ND,
    object_id=ND,
    field=ND,
    changed_at=ND,
    changed_by=ND,
    old_value=personal(Scrub.BLANK, free_text=True),
    new_value=personal(Scrub.BLANK, free_text=True),
)
pii.reach(ChangeRecord, "customer", history=("object_type", "object_id", "field"))
pii.register(SelectionEntry, id=ND, tenant=ND, user=ND, customer=ND, added_at=ND)
pii.register(
    SavedList,
    id=ND,
    tenant=ND,
    owner=ND,
    name=ND,
    shared=ND,
    filters=ND,  # codes and ids of the structured filters only
    # A search typed by staff ("Svensson", a phone number): redacted by the erasure scan.
    search=personal(Scrub.BLANK, category=NOTES_FILES, free_text=True),
    created_at=ND,
)
