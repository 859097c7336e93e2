"""How the registry's audit entries read (audit/describe.py discovers this module)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L
from django.utils.translation import ngettext

from audit.describe import action, lookup, objects

from .models import Address, Consignee, Contact, Customer, CustomerIdCard, CustomerStatus

# --- The objects the entries name ------------------------------------------------------------


def _customers(ids: set[str]) -> dict[str, tuple[str, str, str]]:
    rows = Customer.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()]).values_list(
        "pk", "number", "name", "status"
    )
    found = {}
    for pk, number, name, status in rows:
        url = reverse("customer-card", args=[pk])
        plain = _("customer %(number)s") % {"number": number}
        if status == CustomerStatus.ANONYMIZED:
            found[str(pk)] = (_("anonymized customer %(number)s") % {"number": number}, url, plain)
        else:
            found[str(pk)] = (f"{number} {name}", url, plain)
    return found


def _contacts(ids: set[str]) -> dict[str, tuple[str, str, str]]:
    rows = Contact.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()])
    found = {}
    for contact in rows.only("pk", "number", "first_name", "last_name", "deleted_at"):
        plain = _("contact %(number)s") % {"number": contact.number}
        label = plain if contact.is_deleted else f"{contact.full_name} ({contact.number})"
        found[str(contact.pk)] = (label, "", plain)
    return found


def _customer_by_number(number: str) -> int | None:
    return Customer.objects.filter(number=number.strip()).values_list("pk", flat=True).first()


objects("customer", _customers)
objects("contact", _contacts)
lookup("customer", _customer_by_number)

# --- Customers ---------------------------------------------------------------------------------

C, P = "customers", "parts"

action(
    "customer.created",
    L("Customer created"),
    C,
    lambda d: d.say(_("{actor} created the customer {customer}."), customer=d.customer()),
)
action(
    "customer.updated",
    L("Customer changed"),
    C,
    lambda d: d.say(
        _("{actor} changed {fields} of the customer {customer}."),
        fields=d.fields(Customer),
        customer=d.customer(),
    ),
)
action(
    "customer.active",
    L("Customer made active"),
    C,
    lambda d: d.say(_("{actor} made the customer {customer} active."), customer=d.customer()),
)
action(
    "customer.inactive",
    L("Customer made inactive"),
    C,
    lambda d: d.say(_("{actor} made the customer {customer} inactive."), customer=d.customer()),
)
action(
    "customer.deleted",
    L("Customer deleted"),
    C,
    lambda d: d.say(_("{actor} deleted the customer {customer}."), customer=d.customer()),
)
action(
    "customer.registry_updated",
    L("Customer updated from the business register"),
    C,
    lambda d: d.say(
        _("{actor} updated {fields} of the customer {customer} from the business register."),
        fields=d.fields(Customer),
        customer=d.customer(),
    ),
)
action(
    "saved_list.created",
    L("Saved list created"),
    C,
    lambda d: d.say(
        _("{actor} saved a list shared with colleagues.")
        if d.data.get("shared")
        else _("{actor} saved a private list.")
    ),
)
action(
    "saved_list.deleted",
    L("Saved list deleted"),
    C,
    lambda d: d.say(_("{actor} deleted a saved list.")),
)

# --- Contacts ------------------------------------------------------------------------------


action(
    "contact.created",
    L("Contact added"),
    P,
    lambda d: d.say(
        _("{actor} added the contact {contact} to the customer {customer}."),
        contact=d.contact(d.event.object_id),
        customer=d.customer(),
    ),
)
action(
    "contact.linked",
    L("Contact linked"),
    P,
    lambda d: d.say(
        _("{actor} linked the contact {contact} to the customer {customer}."),
        contact=d.contact(d.event.object_id),
        customer=d.customer(),
    ),
)
action(
    "contact.unlinked",
    L("Contact unlinked"),
    P,
    lambda d: d.say(
        _("{actor} removed the contact {contact} from the customer {customer}."),
        contact=d.contact(d.event.object_id),
        customer=d.customer(),
    ),
)
action(
    "contact.deleted",
    L("Contact deleted"),
    P,
    lambda d: d.say(
        _("{actor} deleted the contact {contact} for good."),
        contact=d.contact(d.event.object_id),
    ),
)

# --- Addresses and consignees -----------------------------------------------------------------


action(
    "address.created",
    L("Address added"),
    P,
    lambda d: d.say(
        _("{actor} added the head office address of the customer {customer}.")
        if d.data.get("head_office")
        else _("{actor} added an address to the customer {customer}."),
        customer=d.customer(),
    ),
)
action(
    "address.updated",
    L("Address changed"),
    P,
    lambda d: d.say(
        _("{actor} changed {fields} of an address of the customer {customer}."),
        fields=d.fields(Address),
        customer=d.customer(),
    ),
)
action(
    "address.head_office_changed",
    L("Head office changed"),
    P,
    lambda d: d.say(
        _("{actor} made another address the head office of the customer {customer}."),
        customer=d.customer(),
    ),
)
action(
    "address.deleted",
    L("Address removed"),
    P,
    lambda d: d.say(
        _("{actor} removed an address from the customer {customer}."), customer=d.customer()
    ),
)
action(
    "consignee.created",
    L("Consignee added"),
    P,
    lambda d: d.say(
        _("{actor} added a consignee to the customer {customer}."), customer=d.customer()
    ),
)
action(
    "consignee.updated",
    L("Consignee changed"),
    P,
    lambda d: d.say(_("{actor} changed {fields} of a consignee."), fields=d.fields(Consignee)),
)
action(
    "consignee.deleted",
    L("Consignee removed"),
    P,
    lambda d: d.say(
        _("{actor} removed a consignee from the customer {customer}."), customer=d.customer()
    ),
)

# --- Files, notes and tasks ----------------------------------------------------------------


action(
    "attachment.file_added",
    L("File attached"),
    P,
    lambda d: d.say(
        _("{actor} attached a file to the customer {customer}."), customer=d.customer()
    ),
)
action(
    "attachment.link_added",
    L("Link added"),
    P,
    lambda d: d.say(_("{actor} added a link to the customer {customer}."), customer=d.customer()),
)
action(
    "attachment.deleted",
    L("File or link removed"),
    P,
    lambda d: d.say(
        _("{actor} removed a link from the customer {customer}.")
        if d.data.get("kind") == "link"
        else _("{actor} removed a file from the customer {customer}."),
        customer=d.customer(),
    ),
)
action(
    "activity.note_added",
    L("Note added"),
    P,
    lambda d: d.say(_("{actor} added a note to the customer {customer}."), customer=d.customer()),
)
action(
    "activity.task_added",
    L("Task added"),
    P,
    lambda d: d.say(_("{actor} added a task to the customer {customer}."), customer=d.customer()),
)
action(
    "activity.completed",
    L("Task completed"),
    P,
    lambda d: d.say(
        _("{actor} completed a task of the customer {customer}."), customer=d.customer()
    ),
)
action(
    "activity.reopened",
    L("Task reopened"),
    P,
    lambda d: d.say(
        _("{actor} reopened a task of the customer {customer}."), customer=d.customer()
    ),
)
action(
    "activity.deleted",
    L("Note or task deleted"),
    P,
    lambda d: d.say(
        _("{actor} deleted a task of the customer {customer}.")
        if d.data.get("kind") == "task"
        else _("{actor} deleted a note of the customer {customer}."),
        customer=d.customer(),
    ),
)

# --- Keys, designations, ID cards -----------------------------------------------------------


action(
    "customer_key.added",
    L("Customer key added"),
    P,
    lambda d: d.say(
        _("{actor} added a key of the type {key_type} to the customer {customer}."),
        key_type=d.data.get("key_type", "—"),
        customer=d.customer(),
    ),
)
action(
    "customer_key.removed",
    L("Customer key removed"),
    P,
    lambda d: d.say(
        _("{actor} removed a key of the type {key_type} from the customer {customer}."),
        key_type=d.data.get("key_type", "—"),
        customer=d.customer(),
    ),
)
action(
    "contact_key.added",
    L("Contact key added"),
    P,
    lambda d: d.say(
        _("{actor} added a key of the type {key_type} to the contact {contact}."),
        key_type=d.data.get("key_type", "—"),
        contact=d.contact(),
    ),
)
action(
    "contact_key.removed",
    L("Contact key removed"),
    P,
    lambda d: d.say(
        _("{actor} removed a key of the type {key_type} from the contact {contact}."),
        key_type=d.data.get("key_type", "—"),
        contact=d.contact(),
    ),
)
action(
    "key_type_rule.created",
    L("Key type rule created"),
    "settings",
    lambda d: d.say(
        _("{actor} set the rules of the key type {key_type}."),
        key_type=d.data.get("key_type", "—"),
    ),
)
action(
    "key_type_rule.changed",
    L("Key type rule changed"),
    "settings",
    lambda d: d.say(
        _("{actor} changed the rules of the key type {key_type}."),
        key_type=d.data.get("key_type", "—"),
    ),
)
action(
    "designation.added",
    L("Designation added"),
    P,
    lambda d: d.say(
        _("{actor} added a designation to the customer {customer}."), customer=d.customer()
    ),
)
action(
    "designation.removed",
    L("Designation removed"),
    P,
    lambda d: d.say(
        _("{actor} removed a designation from the customer {customer}."), customer=d.customer()
    ),
)
action(
    "id_card.created",
    L("Customer ID card issued"),
    P,
    lambda d: d.say(
        _("{actor} issued a customer ID card with a PIN to the customer {customer}.")
        if d.data.get("pin")
        else _("{actor} issued a customer ID card to the customer {customer}."),
        customer=d.customer(),
    ),
)
action(
    "id_card.updated",
    L("Customer ID card changed"),
    P,
    lambda d: d.say(
        _("{actor} changed {fields} of a customer ID card."), fields=d.fields(CustomerIdCard)
    ),
)
action(
    "id_card.deleted",
    L("Customer ID card removed"),
    P,
    lambda d: d.say(
        _("{actor} removed a customer ID card from the customer {customer}."),
        customer=d.customer(),
    ),
)


def _customers_exported(d):
    n = d.count(d.data.get("count"))
    if d.data.get("source") == "selection":
        template = ngettext(
            "{actor} exported {count} customer of their selection as {format}.",
            "{actor} exported {count} customers of their selection as {format}.",
            n,
        )
    else:
        template = ngettext(
            "{actor} exported {count} customer of the customer list as {format}.",
            "{actor} exported {count} customers of the customer list as {format}.",
            n,
        )
    return d.say(template, count=d.number(n), format=str(d.data.get("format", "")).upper())


action("customers.exported", L("Customers exported"), "exports", _customers_exported)
