"""Personal-data classification of the registry.

Conservative: every name, address, number and free text that could identify
or describe a person is personal, for companies too (sole traders and
contact persons are people).
"""

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import Scrub, personal, pii

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

BLANK = personal(Scrub.BLANK)
NULL = personal(Scrub.NULL)
ROW = personal(Scrub.DELETE_ROW)
TRACKED = {"created_at": ND, "updated_at": ND, "created_by": ND, "updated_by": ND}
POSTAL = {"line1": BLANK, "line2": BLANK, "postcode": BLANK, "city": BLANK, "country": ND}

pii.register(
    Customer,
    **TRACKED,
    id=ND,
    tenant=ND,
    number=ND,
    kind=ND,
    name=personal(Scrub.REPLACE, "Anonymized customer"),
    phone=BLANK,
    mobile=BLANK,
    fax=BLANK,
    email=BLANK,
    website=BLANK,
    language=ND,
    country=ND,
    org_number=BLANK,
    vat_number=BLANK,
    edi_reference=BLANK,
    invoice_type=ND,
    invoicing_fee=ND,
    payment_terms=ND,
    credit_limit_amount=ND,
    credit_limit_days=ND,
    bankgiro=BLANK,
    plusgiro=BLANK,
    bank_account=BLANK,
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
    description=BLANK,
    status=ND,
    last_activity_at=ND,
    retention_years=ND,
    search_text=personal(Scrub.CUSTOM, note="rebuilt from the scrubbed fields"),
    sort_name=personal(Scrub.CUSTOM, note="rebuilt from the scrubbed name"),
)
pii.register(
    Address, **TRACKED, **POSTAL, id=ND, tenant=ND, customer=ND, kind=ND, is_head_office=ND
)
pii.register(
    Contact,
    **TRACKED,
    id=ND,
    tenant=ND,
    number=ND,
    title=ND,
    blocked=ND,
    roles=ND,
    customers=ND,
    is_active=ND,
    deleted_at=ND,
    first_name=BLANK,
    last_name=BLANK,
    mobile=BLANK,
    phone=BLANK,
    email=BLANK,
    line1=BLANK,
    line2=BLANK,
    postcode=BLANK,
    city=BLANK,
    keywords=BLANK,
)
pii.register(CustomerContact, id=ND, tenant=ND, customer=ND, contact=ND, created_at=ND)
pii.register(CustomerGroupLink, id=ND, tenant=ND, customer=ND, group=ND)
pii.register(ContactRoleLink, id=ND, tenant=ND, contact=ND, role=ND)
pii.register(
    Consignee,
    **TRACKED,
    **POSTAL,
    id=ND,
    tenant=ND,
    customer=ND,
    number=ND,
    name=personal(Scrub.REPLACE, "Anonymized"),
    reference=BLANK,
    phone=BLANK,
    fax=BLANK,
    email=BLANK,
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
pii.register(KeyTypeRule, id=ND, tenant=ND, key_type=ND, allow_multiple=ND, allowed_values=ND)
pii.register(CustomerKey, **TRACKED, id=ND, tenant=ND, customer=ND, key_type=ND, value=ROW)
pii.register(ContactKey, **TRACKED, id=ND, tenant=ND, contact=ND, key_type=ND, value=ROW)
pii.register(PredefinedDesignation, id=ND, tenant=ND, customer=ND, text=ROW)
pii.register(
    CustomerIdCard,
    **TRACKED,
    id=ND,
    tenant=ND,
    customer=ND,
    number=ND,
    card_type=ND,
    default_consignee=ND,
    reference=BLANK,
    designation=BLANK,
    warehouse=ND,
    valid_from=ND,
    valid_to=ND,
    block_code=ND,
    pin_hash=BLANK,
    info=BLANK,
)
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
    subject=personal(Scrub.REPLACE, "—"),
    body=BLANK,
)
pii.register(
    Attachment,
    **TRACKED,
    id=ND,
    tenant=ND,
    customer=ND,
    size=ND,
    content_type=ND,
    name=ROW,
    url=ROW,
    file=personal(Scrub.DELETE_FILE, note="file removed, then the row"),
)
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
    old_value=BLANK,
    new_value=BLANK,
)
pii.register(SelectionEntry, id=ND, tenant=ND, user=ND, customer=ND, added_at=ND)
pii.register(SavedList, id=ND, tenant=ND, owner=ND, name=ND, shared=ND, filters=ND, created_at=ND)
