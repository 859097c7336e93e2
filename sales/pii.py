"""Personal-data classification of sales documents.

The customer's name and address as printed on a document are personal data (an invoice
copy identifies the customer as much as the card does): anonymization replaces the name
and blanks the address. Kind, number, dates and amounts stay: bookkeeping needs them.
"""

from django.utils import translation
from django.utils.translation import gettext

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import SALES, Scrub, personal, pii

from .models import SalesDocument

BLANK = personal(Scrub.BLANK, category=SALES)


def _anonymized(language: str) -> str:
    with translation.override(language):
        return gettext("Anonymized")


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
    customer_name=personal(Scrub.REPLACE, _anonymized, category=SALES),
    line1=BLANK,
    line2=BLANK,
    postcode=BLANK,
    city=BLANK,
    country=ND,
    created_at=ND,
    updated_at=ND,
)
# Invoice copies no longer show the person: the printed name and address are scrubbed.
pii.reach(SalesDocument, "customer")
