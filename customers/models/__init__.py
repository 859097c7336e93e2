from .activity import Activity, ActivityKind, Attachment, ChangeRecord
from .address import Address, AddressKind
from .consignee import Consignee
from .contact import DELETED_CONTACT, Contact, ContactRoleLink, CustomerContact
from .customer import FINANCE_FIELDS, Customer, CustomerGroupLink, CustomerKind, CustomerStatus
from .keys import ContactKey, CustomerIdCard, CustomerKey, KeyTypeRule, PredefinedDesignation
from .selection import SavedList, SelectionEntry

__all__ = [
    "DELETED_CONTACT",
    "FINANCE_FIELDS",
    "Activity",
    "ActivityKind",
    "Address",
    "AddressKind",
    "Attachment",
    "ChangeRecord",
    "Consignee",
    "Contact",
    "ContactKey",
    "ContactRoleLink",
    "Customer",
    "CustomerContact",
    "CustomerGroupLink",
    "CustomerIdCard",
    "CustomerKey",
    "CustomerKind",
    "CustomerStatus",
    "KeyTypeRule",
    "PredefinedDesignation",
    "SavedList",
    "SelectionEntry",
]
