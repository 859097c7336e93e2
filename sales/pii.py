"""Personal-data classification of sales documents.

The customer's name and address as printed on a document are personal data (an invoice
copy identifies the customer as much as the card does): anonymization replaces the name
and blanks the address. Kind, number, dates and amounts stay: bookkeeping needs them.
"""

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import Scrub, personal, pii

from .models import SalesDocument

BLANK = personal(Scrub.BLANK)

pii.register(
    SalesDocument,
    id=ND,
    tenant=ND,
    kind=ND,
    number=ND,
    date=ND,
    status=ND,
    amount=ND,
    balance=ND,
    currency=ND,
    customer=ND,
    customer_name=personal(Scrub.REPLACE, "Anonymized customer"),
    line1=BLANK,
    line2=BLANK,
    postcode=BLANK,
    city=BLANK,
    country=ND,
    created_at=ND,
    updated_at=ND,
)
