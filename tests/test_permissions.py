"""The one permission suite every view and API endpoint joins (after NetBox and healthchecks).

Each row of ``CASES`` is one request and the status every persona must get:
anonymous (for the API: no key), the four roles of tenant A (Alice admin, Bea
bookkeeper, Bob office staff, Erik employee), Charlie (admin of tenant B, to
whom A's objects do not exist), A's and B's API keys, and a wrong key.

The rules: a browser page sends the anonymous (and API keys, which are no
browser login) to the login page; a signed-in user with no membership in the
object's tenant gets 404, one whose role lacks the permission gets 403
(``tenancy.roles.ROLE_PERMISSIONS``, ``tenancy.decorators``); the API answers
401 problem+json without valid credentials. A refused request changes nothing.

**A new view joins by adding one row.** ``test_every_url_has_a_row`` fails
for any URL pattern that has neither a row nor a place in ``EXEMPT``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record
from consent.services import consent_record, consent_request_create, consent_terms_publish
from customers.models import Customer
from customers.services import keys
from customers.services.activities import activity_add, activity_complete
from customers.services.addresses import address_add
from customers.services.attachments import attachment_add_file
from customers.services.consignees import consignee_create
from customers.services.contacts import contact_create
from customers.services.selections import saved_list_save, selection_add
from tenancy.context import tenant_context
from tenancy.models import ApiKey, ReferenceEntry, ReferenceRegister
from tests.factories import ReferenceEntryFactory, make_customer
from tests.personas import Personas, make_personas

WHO = ("anonymous", "alice", "bea", "bob", "erik", "charlie", "key_a", "key_b", "bad_key")
LOGIN = "login"  # 302 to the login page


def page(alice, bea, bob, erik, charlie) -> tuple:
    """A browser page: no session (an API key is none) means the login page."""
    return (LOGIN, alice, bea, bob, erik, charlie, LOGIN, LOGIN, LOGIN)


def api(alice, bea, bob, erik, charlie, key_a, key_b) -> tuple:
    """An API endpoint: no key or a wrong one is a 401."""
    return (401, alice, bea, bob, erik, charlie, key_a, key_b, 401)


PUBLIC_API = (200,) * 8 + (401,)  # open to all, but a wrong key is still refused


@dataclass
class World:
    """Personas plus tenant A's objects; ``{name}`` in a case's URL or data is one of these."""

    p: Personas
    tenant_a: int
    entry_a: int  # a payment-terms entry
    member_a: int  # Bob's membership
    prefix_a: str  # A's API key
    audit_event_a: int  # an audit event (its id) tenant B does not have
    customer_a: int  # has one of everything below
    other_a: int  # a second customer; nothing blocks deleting it
    other_number_a: str  # its customer number
    address_a: int  # customer_a's second address (not the head office)
    contact_a: int  # customer_a's contact
    other_contact_number_a: int  # the number of other_a's contact (not linked to customer_a)
    consignee_a: int
    key_type_a: int  # a key-type entry; customer_a and contact_a have a key of it
    free_key_type_a: int  # a key type customer_a has no key of yet
    customer_key_a: int
    contact_key_a: int
    designation_a: int
    id_card_a: int
    task_a: int  # an open task
    done_task_a: int  # a completed task
    attachment_a: int  # a stored PDF
    saved_list_a: int  # Alice's shared list "Norr"; Alice, Bea and Bob have customer_a selected
    consent_request_a: int  # an email consent request to customer_a
    decision_a: int  # customer_a's consent decision (granted, manually)
    batch_a: int = 0  # a consent batch to customer_a (tests/consent/test_batches.py)
    reply_a: int = 0  # an SMS reply that decided nothing (tests/consent/test_reply_page.py)
    message_a: int = 0  # a message whose send was cut off (tests/notifications/test_send_protocol)
    sales_document_a: int = 0  # an open invoice of customer_a (tests/sales/)
    hold_a: int = 0  # an active legal hold on customer_a (tests/anonymization/test_legal_hold.py)
    run_a: int = 0  # a finished anonymization run of a third customer (tests/anonymization/)
    deletion_run_a: int = 0  # a finished mass deletion of a fourth customer (test_deletion.py)
    webhook_a: int = 0  # a webhook endpoint (tests/webhooks/)
    webhook_delivery_a: int = 0  # a delivery of customer_a's creation to it
    export_job_a: int = 0  # Bob's finished export job (tests/reports/test_export_jobs.py)


@dataclass(frozen=True)
class Upload:
    """A file for a case's data: each request gets a fresh upload of it."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"


SALES_CSV = (
    b"customer_number,kind,number,date,status,amount,balance\n1,invoice,I-1,2026-01-15,open,1,1\n"
)
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@dataclass(frozen=True)
class Case:
    method: str
    url: str
    expect: tuple  # one status per persona in WHO
    data: dict = field(default_factory=dict)
    bugs: dict[str, str] = field(default_factory=dict)  # persona -> known bug (strict xfail)

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


ENTRY = {"code": "N30", "name": "30 days net", "description": "", "sort_order": 0}

# fmt: off
CASES = [
    # Browser pages:          alice bea  bob  erik charlie
    # The home page is the dashboard (tests/reports/test_dashboard.py): every member gets it,
    # with the parts their role may open; Charlie gets his own company's.
    Case("GET",  "/",                                          page(200, 200, 200, 200, 200)),
    Case("POST", "/settings/tenant/switch/",                   page(302, 302, 302, 302, 404),
         data={"tenant": "{tenant_a}"}),
    # The settings area (tests/tenancy/test_settings_area.py): its index is for roles that
    # may open a settings page; tenant-less, so Charlie gets his own company's.
    Case("GET",  "/settings/",                                 page(200, 403, 403, 403, 200)),
    Case("GET",  "/settings/company/",                         page(200, 403, 403, 403, 200)),
    Case("GET",  "/settings/numbering/",                       page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/numbering/",                       page(302, 403, 403, 403, 302),
         data={"customer_next": "7000", "contact_next": "70"}),
    Case("GET",  "/settings/sms/",                             page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/sms/",                             page(302, 403, 403, 403, 302),
         data={"sms_enabled": "on", "sms_sender": "Nordljus", "sms_monthly_cap": "100"}),
    Case("GET",  "/settings/members/",                         page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/members/{member_a}/",              page(302, 403, 403, 403, 404),
         data={"role": "employee", "is_active": "on"}),
    Case("GET",  "/settings/members/{member_a}/",              page(405, 403, 403, 403, 405)),
    # Two-factor sign-in (tests/tenancy/test_mfa.py): each member their own; an admin resets
    # a member's lost device (another company's member is a 404); the code step is public.
    Case("GET",  "/settings/two-factor/",                      page(200, 200, 200, 200, 200)),
    Case("POST", "/settings/two-factor/start/",                page(302, 302, 302, 302, 302)),
    Case("GET",  "/settings/two-factor/start/",                page(405, 405, 405, 405, 405)),
    Case("POST", "/settings/two-factor/confirm/",              page(200, 200, 200, 200, 200),
         data={"code": "000000"}),
    Case("POST", "/settings/two-factor/recovery-codes/",       page(302, 302, 302, 302, 302)),
    Case("POST", "/settings/two-factor/off/",                  page(302, 302, 302, 302, 302)),
    Case("POST", "/settings/members/{member_a}/two-factor/reset/", page(302, 403, 403, 403, 404)),
    Case("GET",  "/settings/members/{member_a}/two-factor/reset/", page(405, 403, 403, 403, 405)),
    Case("GET",  "/accounts/two-factor/",                      page(302, 302, 302, 302, 302)),
    Case("POST", "/accounts/two-factor/",                      page(302, 302, 302, 302, 302),
         data={"code": "000000"}),
    Case("GET",  "/settings/registers/",                       page(200, 403, 403, 403, 200)),
    Case("GET",  "/settings/registers/payment_terms/",         page(200, 403, 403, 403, 200)),
    Case("GET",  "/settings/registers/nonsense/",              page(404, 403, 403, 403, 404)),
    Case("GET",  "/settings/registers/payment_terms/{entry_a}/", page(200, 403, 403, 403, 404)),
    Case("POST", "/settings/registers/payment_terms/{entry_a}/", page(302, 403, 403, 403, 404),
         data=ENTRY),
    Case("GET",  "/settings/api-keys/",                        page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/api-keys/",                        page(200, 403, 403, 403, 200),
         data={"name": "New till"}),
    Case("POST", "/settings/api-keys/{prefix_a}/revoke/",      page(302, 403, 403, 403, 404)),
    Case("GET",  "/settings/api-keys/{prefix_a}/revoke/",      page(405, 403, 403, 403, 405)),
    # Webhooks (tests/webhooks/): whoever manages API keys; A's endpoints are a 404 to Charlie.
    Case("GET",  "/settings/webhooks/",                        page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/webhooks/",                        page(200, 403, 403, 403, 200),
         data={"url": "https://93.184.215.14/new", "event_types": ["consent.granted"]}),
    Case("GET",  "/settings/webhooks/{webhook_a}/",            page(200, 403, 403, 403, 404)),
    Case("POST", "/settings/webhooks/{webhook_a}/",            page(302, 403, 403, 403, 404),
         data={"url": "https://93.184.215.14/b", "event_types": ["customer.updated"]}),
    Case("POST", "/settings/webhooks/{webhook_a}/toggle/",     page(302, 403, 403, 403, 404)),
    Case("GET",  "/settings/webhooks/{webhook_a}/toggle/",     page(405, 403, 403, 403, 405)),
    Case("POST", "/settings/webhooks/{webhook_a}/rotate-secret/", page(200, 403, 403, 403, 404)),
    Case("POST", "/settings/webhooks/{webhook_a}/delete/",     page(302, 403, 403, 403, 404)),
    Case("POST", "/settings/webhooks/{webhook_a}/deliveries/{webhook_delivery_a}/replay/",
         page(302, 403, 403, 403, 404)),
    Case("GET",  "/audit/",                                    page(200, 200, 403, 403, 200)),
    # The audit page's filters and its CSV export (tests/audit/test_audit_page.py): audit.view;
    # tenant-less, so Charlie gets his own tenant's entries (never A's).
    Case("GET",  "/audit/",                                    page(200, 200, 403, 403, 200),
         data={"action": "customer.created", "who": "system"}),
    Case("GET",  "/reports/audit-log/export/",                 page(200, 200, 403, 403, 200)),
    Case("POST", "/reports/audit-log/export/",                 page(405, 405, 403, 403, 405)),
    # The customer list, export, own selection and saved lists (tests/customers/test_list_views.py).
    # Tenant-less: Charlie gets his own tenant's. The selection is one's own working set, so
    # changing it needs only registry.view; a saved list is its owner's to delete.
    Case("GET",  "/customers/",                                page(200, 200, 200, 403, 200)),
    # The customer picker, number and name only (tests/customers/test_picker.py): every role.
    Case("GET",  "/customers/pick/",                           page(200, 200, 200, 200, 200),
         data={"q": "Nordljus"}),
    Case("GET",  "/customers/export/csv/",                     page(200, 200, 200, 403, 200)),
    Case("GET",  "/customers/export/pdf/",                     page(404, 404, 404, 403, 404)),
    Case("GET",  "/customers/selection/",                      page(200, 200, 200, 403, 200)),
    Case("POST", "/customers/selection/",                      page(302, 302, 302, 403, 200),
         data={"numbers": "{other_number_a}"}),  # Charlie: "no customer has the number"
    Case("POST", "/customers/selection/add/",                  page(302, 302, 302, 403, 302),
         data={"customer": "{other_a}"}),  # Charlie: back to the list with an error
    Case("POST", "/customers/selection/remove/",               page(302, 302, 302, 403, 200),
         data={"customer": "{customer_a}"}),  # Charlie: not in his selection, form error
    Case("GET",  "/customers/selection/clear/",                page(200, 200, 200, 403, 200)),
    Case("POST", "/customers/selection/clear/",                page(302, 302, 302, 403, 302)),
    Case("GET",  "/customers/selection/export/xlsx/",          page(200, 200, 200, 403, 200)),
    Case("POST", "/customers/lists/",                          page(302, 302, 302, 403, 302),
         data={"list-name": "Syd", "status": "inactive"}),
    Case("GET",  "/customers/lists/{saved_list_a}/",           page(302, 302, 302, 403, 404)),
    Case("POST", "/customers/lists/{saved_list_a}/delete/",    page(302, 403, 403, 403, 404)),
    # Reports (tests/reports/): reports.view; tenant-less, so Charlie gets his own company's.
    Case("GET",  "/reports/",                                  page(200, 200, 200, 403, 200),
         data={"report": "inactive", "last_activity_before": "2030-01-01"}),
    # Export jobs (tests/reports/test_export_jobs.py): only their creator (Bob) sees them.
    Case("GET",  "/reports/exports/{export_job_a}/",           page(404, 404, 200, 404, 404)),
    Case("GET",  "/reports/exports/{export_job_a}/download/",  page(404, 404, 200, 404, 404)),
    Case("GET",  "/reports/export/csv/",                       page(200, 200, 200, 403, 200),
         data={"report": "unreachable"}),
    # PDF lists, label sheets, candidates (tests/reports/test_pdf_labels.py): the candidates
    # are not offered to office staff (a field error, 400); report settings: settings.edit.
    Case("GET",  "/reports/export/pdf/",                       page(200, 200, 200, 403, 200),
         data={"report": "addresses"}),
    Case("GET",  "/reports/export/labels/",                    page(200, 200, 200, 403, 200),
         data={"report": "labels", "start_at": "2"}),
    Case("GET",  "/reports/export/xlsx/",                      page(200, 200, 400, 403, 200),
         data={"report": "anonymization"}),
    Case("GET",  "/reports/settings/",                         page(200, 403, 403, 403, 200)),
    Case("POST", "/reports/settings/",                         page(302, 403, 403, 403, 302),
         data={"label_layout": "2x7"}),
    # The customer card (tests/customers/test_card_views.py): registry.view to see,
    # registry.edit to change, customer.delete to delete; Charlie: A's customers do not exist.
    Case("GET",  "/customers/new/",                            page(200, 200, 200, 403, 200)),
    Case("POST", "/customers/new/",                            page(302, 302, 302, 403, 302),
         data={"kind": "company", "name": "Ny Kund AB", "country": "SE"}),
    Case("GET",  "/customers/{customer_a}/",                   page(200, 200, 200, 403, 404)),
    Case("GET",  "/customers/{customer_a}/consignees/",        page(200, 200, 200, 403, 404)),
    Case("GET",  "/customers/{customer_a}/history/",           page(200, 200, 200, 403, 404)),
    Case("GET",  "/customers/{customer_a}/settings/",          page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/status/",            page(302, 302, 302, 403, 404),
         data={"status": "inactive"}),
    Case("GET",  "/customers/{customer_a}/delete/",            page(200, 200, 403, 403, 404)),
    Case("POST", "/customers/{other_a}/delete/",               page(302, 302, 403, 403, 404)),
    # Addresses
    Case("GET",  "/customers/{customer_a}/addresses/new/",     page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/addresses/new/",     page(302, 302, 302, 403, 404),
         data={"kind": "delivery", "line1": "Hamnen 4", "city": "Luleå"}),
    Case("POST", "/customers/{customer_a}/addresses/head-office/", page(302, 302, 302, 403, 404),
         data={"address": "{address_a}"}),
    Case("GET",  "/customers/{customer_a}/addresses/{address_a}/", page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/addresses/{address_a}/", page(302, 302, 302, 403, 404),
         data={"kind": "postal", "line1": "Box 13", "city": "Luleå"}),
    Case("GET",  "/customers/{customer_a}/addresses/{address_a}/delete/",
         page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/addresses/{address_a}/delete/",
         page(302, 302, 302, 403, 404)),
    # Contacts
    Case("GET",  "/customers/{customer_a}/contacts/new/",      page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/contacts/new/",      page(302, 302, 302, 403, 404),
         data={"last_name": "Ek"}),
    Case("GET",  "/customers/{customer_a}/contacts/link/",     page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/contacts/link/",     page(302, 302, 302, 403, 404),
         data={"number": "{other_contact_number_a}"}),
    Case("GET",  "/customers/{customer_a}/contacts/{contact_a}/", page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/contacts/{contact_a}/", page(302, 302, 302, 403, 404),
         data={"first_name": "Kim", "last_name": "Lundin"}),
    Case("POST", "/customers/{customer_a}/contacts/{contact_a}/active/",
         page(302, 302, 302, 403, 404), data={"active": "0"}),
    Case("GET",  "/customers/{customer_a}/contacts/{contact_a}/delete/",
         page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/contacts/{contact_a}/delete/",
         page(302, 302, 302, 403, 404)),
    Case("POST", "/customers/{customer_a}/contacts/{contact_a}/customers/",
         page(302, 302, 302, 403, 404), data={"number": "{other_number_a}"}),
    Case("POST", "/customers/{customer_a}/contacts/{contact_a}/unlink/",
         page(302, 302, 302, 403, 404)),
    # Consignees
    Case("GET",  "/customers/{customer_a}/consignees/new/",    page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/consignees/new/",    page(302, 302, 302, 403, 404),
         data={"name": "Lager Syd"}),
    Case("GET",  "/customers/{customer_a}/consignees/{consignee_a}/",
         page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/consignees/{consignee_a}/",
         page(302, 302, 302, 403, 404), data={"number": "L1", "name": "Lager Nord"}),
    Case("GET",  "/customers/{customer_a}/consignees/{consignee_a}/delete/",
         page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/consignees/{consignee_a}/delete/",
         page(302, 302, 302, 403, 404)),
    # The card's parts (tests/customers/test_parts.py). Keys and cards:
    Case("GET",  "/customers/{customer_a}/keys/",              page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/keys/add/",          page(302, 302, 302, 403, 404),
         data={"key_type": "{free_key_type_a}", "value": "Handel"}),
    Case("POST", "/customers/{customer_a}/keys/{customer_key_a}/remove/",
         page(302, 302, 302, 403, 404)),
    Case("POST", "/customers/{customer_a}/keys/contact-keys/{contact_key_a}/remove/",
         page(302, 302, 302, 403, 404)),
    Case("POST", "/customers/{customer_a}/designations/add/",  page(302, 302, 302, 403, 404),
         data={"text": "P-2"}),
    Case("POST", "/customers/{customer_a}/designations/{designation_a}/remove/",
         page(302, 302, 302, 403, 404)),
    Case("GET",  "/customers/{customer_a}/id-cards/new/",      page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/id-cards/new/",      page(302, 302, 302, 403, 404),
         data={"number": "9100"}),
    Case("GET",  "/customers/{customer_a}/id-cards/{id_card_a}/", page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/id-cards/{id_card_a}/", page(302, 302, 302, 403, 404),
         data={"number": "9001", "reference": "Ny"}),
    Case("POST", "/customers/{customer_a}/id-cards/{id_card_a}/delete/",
         page(302, 302, 302, 403, 404)),
    # The key-type register's rules are settings (settings.edit: admins only).
    Case("GET",  "/customers/key-types/",                      page(200, 403, 403, 403, 200)),
    Case("GET",  "/customers/key-types/{key_type_a}/",         page(200, 403, 403, 403, 404)),
    Case("POST", "/customers/key-types/{key_type_a}/",         page(302, 403, 403, 403, 404),
         data={"allow_multiple": "on", "allowed_values": "Bygg\nHandel"}),
    # Files and links
    Case("GET",  "/customers/{customer_a}/files/",             page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/files/upload/",      page(302, 302, 302, 403, 404),
         data={"file": Upload("avtal.pdf", PDF), "name": "Avtal"}),
    Case("POST", "/customers/{customer_a}/files/link/",        page(302, 302, 302, 403, 404),
         data={"url": "https://example.com/avtal", "name": "Avtal"}),
    Case("GET",  "/customers/{customer_a}/files/{attachment_a}/download/",
         page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/files/{attachment_a}/delete/",
         page(302, 302, 302, 403, 404)),
    # The activity feed
    Case("GET",  "/customers/{customer_a}/activities/",        page(200, 200, 200, 403, 404)),
    Case("POST", "/customers/{customer_a}/activities/add/",    page(302, 302, 302, 403, 404),
         data={"kind": "note", "subject": "Hej"}),
    Case("POST", "/customers/{customer_a}/activities/{task_a}/complete/",
         page(302, 302, 302, 403, 404)),
    Case("POST", "/customers/{customer_a}/activities/{done_task_a}/reopen/",
         page(302, 302, 302, 403, 404)),
    Case("POST", "/customers/{customer_a}/activities/{task_a}/delete/",
         page(302, 302, 302, 403, 404)),
    # Update from the business registry: a Swedish customer gets the "Norway and Finland
    # only" page, so no request leaves the machine.
    Case("GET",  "/customers/{customer_a}/update-from-registry/", page(200, 200, 200, 403, 404)),
    # The data-subject access export (tests/reports/test_subject_access.py): registry.view,
    # finance.view and audit.view (admins, bookkeepers); for a key customers:read and
    # audit:read. A's customers do not exist for Charlie and B's key.
    Case("GET",  "/reports/customers/{customer_a}/personal-data.json",
         page(200, 200, 403, 403, 404)),
    Case("GET",  "/reports/customers/{customer_a}/personal-data.pdf",
         page(200, 200, 403, 403, 404)),
    Case("GET",  "/api/v1/customers/{customer_a}/export/",
         api(200, 200, 403, 403, 404, 200, 404)),
    # API:                                   alice bea  bob  erik charlie key_a key_b
    Case("GET",    "/api/v1/me/",                           api(200, 200, 200, 200, 200, 200, 200)),
    Case("GET",    "/api/v1/audit-events/",                 api(200, 200, 403, 403, 200, 200, 200)),
    Case("GET",    "/api/v1/audit-events/{audit_event_a}/", api(200, 200, 403, 403, 404, 200, 404)),
    Case("DELETE", "/api/v1/audit-events/{audit_event_a}/", api(405, 405, 405, 405, 405, 405, 405)),
    # The events feed (tests/webhooks/test_api.py): customers:read; each tenant its own.
    Case("GET",    "/api/v1/events/",                       api(200, 200, 200, 403, 200, 200, 200)),
    Case("POST",   "/api/v1/events/",                       api(405, 405, 405, 405, 405, 405, 405)),
    Case("GET",    "/api/v1/reference-entries/",            api(200, 200, 200, 403, 200, 200, 200)),
    Case("POST",   "/api/v1/reference-entries/",            api(201, 403, 403, 403, 201, 201, 201),
         data={"register": "payment_terms", **ENTRY}),
    Case("GET",    "/api/v1/reference-entries/{entry_a}/",  api(200, 200, 200, 403, 404, 200, 404)),
    Case("PATCH",  "/api/v1/reference-entries/{entry_a}/",  api(200, 403, 403, 403, 404, 200, 404),
         data={"name": "Net 30"}),
    # The registry (tests/customers/test_api.py MATRIX): customers:read / customers:write;
    # for a session registry.view / registry.edit; A's ids are a 404 to B.
    Case("GET",    "/api/v1/customers/",                    api(200, 200, 200, 403, 200, 200, 200)),
    Case("GET",    "/api/v1/customers/pick/",               api(200, 200, 200, 200, 200, 200, 200),
         data={"q": "Nordljus"}),
    Case("POST",   "/api/v1/customers/",                    api(201, 201, 201, 403, 201, 201, 201),
         data={"name": "Ny Kund AB"}),
    Case("GET",    "/api/v1/customers/{customer_a}/",       api(200, 200, 200, 403, 404, 200, 404)),
    Case("PATCH",  "/api/v1/customers/{customer_a}/",       api(200, 200, 200, 403, 404, 200, 404),
         data={"name": "Nytt Namn AB"}),
    Case("GET",    "/api/v1/customers/{customer_a}/contacts/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("POST",   "/api/v1/customers/{customer_a}/contacts/",
         api(201, 201, 201, 403, 404, 201, 404), data={"last_name": "Ek"}),
    Case("GET",    "/api/v1/customers/{customer_a}/contacts/{contact_a}/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("PATCH",  "/api/v1/customers/{customer_a}/contacts/{contact_a}/",
         api(200, 200, 200, 403, 404, 200, 404), data={"city": "Umeå"}),
    Case("DELETE", "/api/v1/customers/{customer_a}/contacts/{contact_a}/",
         api(204, 204, 204, 403, 404, 204, 404)),
    Case("POST",   "/api/v1/contacts/{contact_a}/customers/",
         api(201, 201, 201, 403, 404, 201, 404), data={"customer": "{other_a}"}),
    Case("DELETE", "/api/v1/contacts/{contact_a}/customers/{customer_a}/",
         api(204, 204, 204, 403, 404, 204, 404)),
    Case("GET",    "/api/v1/customers/{customer_a}/addresses/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("POST",   "/api/v1/customers/{customer_a}/addresses/",
         api(201, 201, 201, 403, 404, 201, 404), data={"kind": "postal"}),
    Case("GET",    "/api/v1/customers/{customer_a}/addresses/{address_a}/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("PATCH",  "/api/v1/customers/{customer_a}/addresses/{address_a}/",
         api(200, 200, 200, 403, 404, 200, 404), data={"city": "Umeå"}),
    Case("DELETE", "/api/v1/customers/{customer_a}/addresses/{address_a}/",
         api(204, 204, 204, 403, 404, 204, 404)),
    Case("POST",   "/api/v1/customers/{customer_a}/addresses/{address_a}/make-head-office/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("GET",    "/api/v1/customers/{customer_a}/consignees/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("POST",   "/api/v1/customers/{customer_a}/consignees/",
         api(201, 201, 201, 403, 404, 201, 404), data={"name": "Lager 2"}),
    Case("GET",    "/api/v1/customers/{customer_a}/consignees/{consignee_a}/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("PATCH",  "/api/v1/customers/{customer_a}/consignees/{consignee_a}/",
         api(200, 200, 200, 403, 404, 200, 404), data={"city": "Umeå"}),
    Case("DELETE", "/api/v1/customers/{customer_a}/consignees/{consignee_a}/",
         api(204, 204, 204, 403, 404, 204, 404)),
    # Unknown paths under /api/ answer 404 problem+json to everyone, before any authentication.
    Case("GET",    "/api/v1/no-such-endpoint/",             (404,) * 9),
    Case("GET",    "/api/schema/",                          PUBLIC_API),
    Case("GET",    "/api/docs/",                            PUBLIC_API),
    Case("GET",    "/api/redoc/",                           PUBLIC_API),
    # Consent:                  alice bea  bob  erik charlie
    Case("GET",  "/settings/consent/",                         page(200, 403, 403, 403, 200)),
    # Retention and legal holds (tests/anonymization/): retention.edit (admin) for the settings,
    # anonymization.run (admin, bookkeeper) for a hold; A's customers do not exist for Charlie.
    Case("GET",  "/settings/retention/",                       page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/retention/",                       page(302, 403, 403, 403, 302),
         data={"form": "preset", "preset-country": "DK"}),
    # The Anonymization page (tests/anonymization/test_page.py): anonymization.run; Charlie
    # gets his own tenant's page.
    Case("GET",  "/anonymization/",                            page(200, 200, 403, 403, 200)),
    Case("POST", "/anonymization/customers/{other_a}/legal-hold/",
         page(302, 302, 403, 403, 404), data={"hold-reason": "Tvist om faktura"}),
    Case("POST", "/anonymization/customers/{customer_a}/legal-hold/{hold_a}/lift/",
         page(302, 302, 403, 403, 404)),
    # Anonymizing from the card: customer_a is blocked (hold, open invoice), so a refusal.
    Case("POST", "/anonymization/customers/{customer_a}/anonymize/",
         page(200, 200, 403, 403, 404),
         data={"anonymize-categories": "name", "anonymize-phrase": "I understand anonymization"}),
    # Eligibility through the API (tests/anonymization/test_api.py): anonymization:read.
    Case("GET",  "/api/v1/eligibility/",
         api(200, 200, 403, 403, 200, 200, 200), data={"state": "eligible"}),
    Case("GET",  "/api/v1/customers/{customer_a}/eligibility/",
         api(200, 200, 403, 403, 404, 200, 404)),
    # Anonymization runs (tests/anonymization/test_runs.py): anonymization.run to start or
    # read one in the browser, anonymization:read for the API.
    Case("GET",  "/anonymization/runs/",                       page(200, 200, 403, 403, 200)),
    Case("GET",  "/anonymization/runs/{run_a}/",               page(200, 200, 403, 403, 404)),
    Case("GET",  "/anonymization/runs/{run_a}/report.json",    page(200, 200, 403, 403, 404)),
    Case("GET",  "/anonymization/runs/{run_a}/report.pdf",     page(200, 200, 403, 403, 404)),
    Case("POST", "/anonymization/runs/start/",                 page(400, 400, 403, 403, 400),
         data={"customer": "{customer_a}", "categories": "name", "phrase": "fel"}),
    Case("GET",  "/api/v1/anonymization-runs/",
         api(200, 200, 403, 403, 200, 200, 200)),
    Case("GET",  "/api/v1/anonymization-runs/{run_a}/",
         api(200, 200, 403, 403, 404, 200, 404)),
    # Mass deletion (tests/anonymization/test_deletion.py): customer.delete; Charlie gets his
    # own tenant's pages and proposal, A's runs do not exist for him. A wrong phrase: 400.
    Case("GET",  "/anonymization/deletion/",                   page(200, 200, 403, 403, 200),
         data={"last_activity_before": "2030-01-01"}),
    Case("POST", "/anonymization/deletion/start/",             page(400, 400, 403, 403, 400),
         data={"last_activity_before": "2030-01-01", "fingerprint": "x", "phrase": "fel"}),
    Case("GET",  "/anonymization/deletion/runs/",              page(200, 200, 403, 403, 200)),
    Case("GET",  "/anonymization/deletion/runs/{deletion_run_a}/",
         page(200, 200, 403, 403, 404)),
    # Consent on the customer card (tests/consent/test_card.py): registry.view for a receipt,
    # consent.request to act; A's customers do not exist for Charlie.
    Case("POST", "/consent/customers/{customer_a}/request/",
         page(302, 302, 302, 403, 404),
         data={"consent-request-channel": "email", "consent-request-language": "sv"}),
    Case("POST", "/consent/customers/{customer_a}/record/",
         page(302, 302, 302, 403, 404),
         data={"consent-manual-decision": "withdrawn", "consent-manual-how": "phone"}),
    Case("POST", "/consent/customers/{customer_a}/refresh/",
         page(302, 302, 302, 403, 404)),
    Case("GET",  "/consent/customers/{customer_a}/decisions/{decision_a}/receipt/",
         page(200, 200, 200, 403, 404)),
    Case("GET",    "/api/v1/customers/{customer_a}/consent/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("POST",   "/api/v1/customers/{customer_a}/consent/",
         api(201, 201, 201, 403, 404, 201, 404), data={"decision": "withdrawn", "method": "pos"}),
    Case("POST",   "/api/v1/customers/{customer_a}/consent-requests/",
         api(202, 202, 202, 403, 404, 202, 404), data={"channel": "email"}),
    Case("GET",    "/api/v1/consent-requests/{consent_request_a}/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("GET",    "/api/v1/consent-terms/current/",
         api(200, 200, 200, 403, 404, 200, 404)),
    # Publishing terms: consent:admin, for a session the right to edit them (admins); a new
    # company (Charlie's, B's key) publishes its own. Settings: customers:read.
    Case("POST",   "/api/v1/consent-terms/",                api(201, 403, 403, 403, 201, 201, 201),
         data={"language": "da", "text": "Vi gemmer dine oplysninger."}),
    Case("GET",    "/api/v1/consent-settings/",             api(200, 200, 200, 403, 200, 200, 200)),
    # Consent to many customers (tests/consent/test_batches.py, test_reconsent.py): consent.request;
    # Charlie gets his own tenant's (empty) pages, and A's batch does not exist for him.
    Case("GET",  "/consent/batches/",                          page(200, 200, 200, 403, 200)),
    Case("GET",  "/consent/batches/new/",                      page(200, 200, 200, 403, 200)),
    Case("POST", "/consent/batches/new/",                      page(302, 302, 302, 403, 200),
         data={"source": "selection", "channel": "email"}),  # Charlie: nobody selected
    Case("GET",  "/consent/batches/{batch_a}/",                page(200, 200, 200, 403, 404)),
    Case("GET",  "/consent/batches/{batch_a}/unreachable/",    page(200, 200, 200, 403, 404)),
    Case("GET",  "/consent/batches/{batch_a}/unreachable/export/csv/",
         page(200, 200, 200, 403, 404)),
    Case("GET",  "/consent/reconsent/",                        page(200, 200, 200, 403, 200)),
    Case("POST", "/consent/reconsent/",                        page(200, 200, 200, 403, 200),
         data={"channel": "email"}),  # nobody consented to older terms: a form error
    Case("POST", "/consent/refresh/",                          page(302, 302, 302, 403, 302)),
    # SMS replies that decided nothing (tests/consent/test_reply_page.py): consent.request;
    # Charlie gets his own tenant's (empty) list, and A's reply does not exist for him.
    Case("GET",  "/consent/replies/",                          page(200, 200, 200, 403, 200)),
    Case("POST", "/consent/replies/{reply_a}/assign/",         page(200, 200, 200, 403, 404)),
    # (no request chosen: a form error)
    Case("POST", "/consent/replies/{reply_a}/dismiss/",        page(302, 302, 302, 403, 404)),
    # Messages waiting for a person's decision (a send cut off, the provider cannot tell).
    Case("GET",  "/messages/uncertain/",                       page(200, 200, 200, 403, 200)),
    Case("POST", "/messages/uncertain/{message_a}/decide/",    page(302, 302, 302, 403, 404),
         data={"decision": "failed"}),
    Case("GET",    "/api/v1/consent-decisions/{decision_a}/receipt/",
         api(200, 200, 200, 403, 404, 200, 404)),
    # Sales documents (tests/sales/): customers:read to read, sales:write to post; A's customer
    # and document do not exist for Charlie and B's key (an unknown customer is a field error).
    Case("GET",    "/api/v1/sales-documents/",              api(200, 200, 200, 403, 200, 200, 200)),
    Case("POST",   "/api/v1/sales-documents/",              api(201, 201, 201, 403, 400, 201, 400),
         data={"customer": "{customer_a}", "kind": "invoice", "number": "P-1",
               "date": "2026-01-15", "status": "open", "amount": "10.00", "balance": "10.00"}),
    Case("GET",    "/api/v1/sales-documents/{sales_document_a}/",
         api(200, 200, 200, 403, 404, 200, 404)),
    Case("GET",  "/sales/customers/{customer_a}/",              page(200, 200, 200, 403, 404)),
    # The Sales page: registry.view; its CSV import writes documents (balances): finance.edit.
    # An upload waits under a token only the uploading session knows: anyone else gets 404.
    Case("GET",  "/sales/",                                     page(200, 200, 200, 403, 200)),
    Case("GET",  "/sales/import/",                              page(200, 200, 403, 403, 200)),
    Case("POST", "/sales/import/",                              page(302, 302, 403, 403, 302),
         data={"file": Upload("sales.csv", SALES_CSV, "text/csv")}),
    Case("GET",  "/sales/import/template.csv",                  page(200, 200, 403, 403, 200)),
    Case("GET",  "/sales/import/" + "t" * 32 + "/",             page(404, 404, 403, 403, 404)),
    Case("POST", "/sales/import/" + "t" * 32 + "/",             page(404, 404, 403, 403, 404)),
]
# fmt: on

# URL names outside this suite, and why.
EXEMPT = {
    "login": "public; tests/web/test_auth.py",
    "logout": "tests/web/test_auth.py",
    "password_reset": "public; tests/web/test_auth.py",
    "password_reset_done": "public",
    "password_reset_confirm": "public, token-guarded; tests/web/test_auth.py",
    "password_reset_complete": "public",
    "set_language": "public; tests/web/test_auth.py",
    "healthz": "public, for the load balancer; holds no tenant data",
    "livez": "public, for probes; no data at all; tests/config/test_health_probes.py",
    "readyz": "public, for probes; holds no tenant data; tests/config/test_health_probes.py",
    "consent-page": "public, token-guarded; tests/consent/test_page.py (a token never shows "
    "another tenant)",
    "consent-brand-css": "public, a company's colour only; tests/consent/test_public_page_ux.py",
    "consent-brand-logo": "public, a company's logo only; tests/consent/test_public_page_ux.py",
    "twilio-status": "public, Twilio-signed; tests/notifications/test_webhooks.py",
    "twilio-inbound": "public, Twilio-signed; tests/notifications/test_webhooks.py",
    "anymail-tracking": "public, webhook secret (anymail); tests/notifications/test_webhooks.py",
}


def _build_world(p: Personas) -> World:
    system = Actor.system("tests")
    with tenant_context(p.tenant_b):
        b_events = AuditEvent.objects.count()
    with tenant_context(p.tenant_a):
        entry = ReferenceEntryFactory(code="A30")
        customer = make_customer(name="Nordljus Kund AB")
        other = make_customer(name="Annan Kund AB")
        other_contact = contact_create(customer=other, actor=system, last_name="Främling")
        address_add(customer=customer, actor=system, line1="Storgatan 1", city="Luleå")
        address = address_add(
            customer=customer, actor=system, kind="postal", line1="Box 12", city="Luleå"
        )
        contact = contact_create(
            customer=customer, actor=system, first_name="Kim", last_name="Lund"
        )
        consignee = consignee_create(
            customer=customer, actor=system, number="L1", name="Lager Norr"
        )
        key_type = ReferenceEntryFactory(
            register=ReferenceRegister.KEY_TYPE, code="BRANSCH", name="Bransch"
        )
        free_key_type = ReferenceEntryFactory(
            register=ReferenceRegister.KEY_TYPE, code="FRITT", name="Fritt"
        )
        customer_key = keys.customer_key_add(
            customer=customer, key_type=key_type, value="Bygg", actor=system
        )
        contact_key = keys.contact_key_add(
            contact=contact, key_type=key_type, value="Ja", actor=system
        )
        designation = keys.designation_add(customer=customer, text="P-1", actor=system)
        id_card = keys.id_card_create(customer=customer, number="9001", actor=system)
        task = activity_add(customer=customer, kind="task", subject="Ring Kim", actor=system)
        done_task = activity_add(customer=customer, kind="task", subject="Skicka", actor=system)
        activity_complete(activity=done_task, actor=system)
        attachment = attachment_add_file(
            customer=customer,
            uploaded_file=SimpleUploadedFile("offert.pdf", PDF, content_type="application/pdf"),
            actor=system,
        )
        saved_list = saved_list_save(
            user=p.alice, name="Norr", shared=True, filters={"status": "active"}
        )
        for user in (p.alice, p.bea, p.bob):
            selection_add(user=user, customers=[customer])
        Customer.objects.filter(pk=customer.pk).update(email="kund@nordljus.example")
        customer.refresh_from_db()
        terms = consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=system)
        consent_request, _token = consent_request_create(
            customer=customer, channel="email", language="sv", actor=system
        )
        decision = consent_record(
            customer=customer,
            decision="granted",
            method="manual",
            actor=system,
            language="sv",
            terms_version=terms.version,
            # Answered: an open request would make every new one a 409 (one open per customer).
            request=consent_request,
        )
        for _ in range(b_events + 1):
            event = audit_record(action="test.event", actor=Actor.system("tests"))
        prefix = ApiKey.objects.get(name="Till A").prefix
        from consent.batches import consent_batch_start

        batch_a = consent_batch_start(
            customer_ids=[customer.pk], channel="email", source="search", actor=system
        ).pk
        from consent.models import UnmatchedReply

        reply_a = UnmatchedReply.objects.create(
            from_number="+46700000001", body="JA", decision="granted", reason="no_open_request"
        ).pk
        from notifications.models import OutboundMessage

        message_a = OutboundMessage.objects.create(
            channel="email",
            destination="a@example.test",
            language="sv",
            template="plain",
            body="Hej",
            status="uncertain",
            last_error="cut off",
        ).pk
        from sales.services import sales_document_post

        sales_document_a = sales_document_post(
            customer=customer,
            kind="invoice",
            number="W-1",
            date=date(2026, 1, 10),
            status="open",
            amount=Decimal("100.00"),
            balance=Decimal("100.00"),
            actor=system,
        )[0].pk
        from anonymization.services import legal_hold_set

        hold_a = legal_hold_set(customer=customer, reason="Tvist", actor=system).pk
        from anonymization.runs import anonymization_run_chunk, anonymization_run_start

        # Created long ago, never bought: eligible, and anonymized by a finished run.
        gone = make_customer(name="Gallrad AB")
        Customer.objects.filter(pk=gone.pk).update(created_at=datetime(2010, 1, 1, tzinfo=UTC))
        run_a = anonymization_run_start(
            customer_ids=[gone.pk], actor=system, source="command", note="Gallring"
        ).pk
        while anonymization_run_chunk(run_id=run_a):  # the last call scans and finishes
            pass
        from anonymization.deletion import deletion_run_chunk, deletion_run_start

        deleted = make_customer(name="Raderad AB")
        deletion_run_a = deletion_run_start(customer_ids=[deleted.pk], actor=system).pk
        deletion_run_chunk(run_id=deletion_run_a)
        from webhooks.models import WebhookDelivery
        from webhooks.services import endpoint_create, event_record

        # A public address literal: no name to resolve, and nothing is ever sent (the world
        # is never committed, so no delivery task leaves).
        webhook_a = endpoint_create(
            url="https://93.184.215.14/hook", event_types=["customer.created"], actor=system
        )[0]
        event_record(
            type="customer.created",
            object_type="customer",
            object_id=customer.pk,
            data={"customer_id": customer.pk},
        )
        webhook_delivery_a = WebhookDelivery.objects.get(endpoint=webhook_a).pk
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        from reports.models import ExportJob

        export_job_a = ExportJob.objects.create(
            source="report",
            report="phones",
            format="csv",
            created_by=p.bob,
            status="done",
            file=default_storage.save(
                f"tenants/{p.tenant_a.pk}/exports/perm.csv", ContentFile(b"a,b\r\n")
            ),
            download_name="phones.csv",
            expires_at=datetime(2100, 1, 1, tzinfo=UTC),
        ).pk
    return World(
        p=p,
        tenant_a=p.tenant_a.pk,
        entry_a=entry.pk,
        member_a=p.bob.memberships.get().pk,
        prefix_a=prefix,
        audit_event_a=event.pk,
        customer_a=customer.pk,
        other_a=other.pk,
        other_number_a=other.number,
        address_a=address.pk,
        contact_a=contact.pk,
        other_contact_number_a=other_contact.number,
        consignee_a=consignee.pk,
        key_type_a=key_type.pk,
        free_key_type_a=free_key_type.pk,
        customer_key_a=customer_key.pk,
        contact_key_a=contact_key.pk,
        designation_a=designation.pk,
        id_card_a=id_card.pk,
        task_a=task.pk,
        done_task_a=done_task.pk,
        attachment_a=attachment.pk,
        saved_list_a=saved_list.pk,
        consent_request_a=consent_request.pk,
        decision_a=decision.pk,
        batch_a=batch_a,
        reply_a=reply_a,
        message_a=message_a,
        sales_document_a=sales_document_a,
        hold_a=hold_a,
        run_a=run_a,
        deletion_run_a=deletion_run_a,
        webhook_a=webhook_a.pk,
        webhook_delivery_a=webhook_delivery_a,
        export_job_a=export_job_a,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once per module (per xdist worker) inside a transaction that is never committed.

    Each test then runs in a savepoint of it (the ``db`` fixture, below) that is rolled
    back afterwards, so no test sees another's writes, as Django's ``setUpTestData`` does.
    Nothing of the world is ever committed: its ``on_commit`` work (task sends, file
    deletions) never runs, and nothing needs truncating.
    """
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("permission-media"))
    with django_db_blocker.unblock(), media:
        outer = transaction.atomic()
        outer._from_testcase = True  # a durable atomic in a view may nest in it, as in TestCase
        outer.__enter__()
        try:
            yield _build_world(make_personas())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _each_test_in_a_savepoint(world, db):
    """``db`` nests in the world's transaction: a savepoint, rolled back after the test."""
    assert connection.in_atomic_block


def _fill(value, world: World):
    if isinstance(value, Upload):
        return SimpleUploadedFile(value.name, value.content, content_type=value.content_type)
    return value.format(**vars(world)) if isinstance(value, str) else value


def _client(w: World, who: str) -> Client:
    p = w.p
    if who == "anonymous":
        return Client()
    if who.startswith("key_"):
        return p.api(getattr(p, who))
    if who == "bad_key":
        return p.api(f"{w.prefix_a}.not-the-secret")
    return p.client(getattr(p, who))


# Rows written in this transaction so far, per table and kind, as PostgreSQL itself counts
# them (including writes a savepoint rollback later undid). The request runs in the test's
# own transaction, on the same connection, so every write it attempts shows here, on any
# table, whether or not the code recorded it in the audit log.
_WRITES_SQL = """
    SELECT relname, kind, n
    FROM pg_stat_xact_user_tables,
         LATERAL (VALUES ('inserted', n_tup_ins), ('updated', n_tup_upd), ('deleted', n_tup_del))
             AS w (kind, n)
    WHERE schemaname = current_schema() AND n > 0
"""

# The one write a refused request may make: a valid API key stamps its last use
# (tenancy.services.api_key_touch, at most once a minute; the world's keys are unused).
KEY_USE_STAMP = {"tenancy_apikey updated": 1}


def _writes() -> Counter[str]:
    with connection.cursor() as cursor:
        cursor.execute(_WRITES_SQL)
        return Counter({f"{table} {kind}": n for table, kind, n in cursor.fetchall()})


def _written_since(before: Counter[str], allowed: dict[str, int] | None = None) -> dict[str, int]:
    """Rows written since ``before`` was taken, by "table kind", beyond what is ``allowed``."""
    allowed = allowed or {}
    after = _writes()
    return {
        name: n - before[name]
        for name, n in sorted(after.items())
        if n - before[name] > allowed.get(name, 0)
    }


def _params():
    for case in CASES:
        for who, expected in zip(WHO, case.expect, strict=True):
            bug = case.bugs.get(who)
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            yield pytest.param(case, who, expected, id=f"{case}-{who}", marks=marks)


@pytest.mark.parametrize(("case", "who", "expected"), list(_params()))
def test_permission(world, case, who, expected):
    url = _fill(case.url, world)
    data = {key: _fill(value, world) for key, value in case.data.items()}
    is_api = url.startswith("/api/v1/")
    client = _client(world, who)  # signing in writes (session, last login): not the request
    before = _writes()
    response = getattr(client, case.method.lower())(
        url, data, **({"content_type": "application/json"} if is_api else {})
    )

    if expected == LOGIN:
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == expected, response.content[:300]
        if expected == 302:
            assert not response["Location"].startswith("/accounts/login/")
    if is_api and response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == response.status_code
        assert "{" not in problem["title"], problem["title"]
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Api-Key"
    if expected in (LOGIN, 401, 403, 404, 405):
        written = _written_since(before, KEY_USE_STAMP if who in ("key_a", "key_b") else None)
        assert not written, f"a refused request wrote rows: {written}"


def _url_names(patterns, prefix="") -> dict[str, str]:
    found = {}
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found |= _url_names(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            found[entry.name or f"<unnamed {route}>"] = route
    return found


def _name(match) -> str:
    """A resolved URL's name, or the stand-in ``_url_names`` gives an unnamed pattern."""
    return match.url_name or f"<unnamed {match.route}>"


def test_every_url_has_a_row(world):
    covered = {_name(resolve(_fill(case.url, world))) for case in CASES}
    missing = {
        name: route
        for name, route in _url_names(get_resolver().url_patterns).items()
        if name not in covered and name not in EXEMPT
    }
    assert not missing, f"add a row to CASES (or a reason to EXEMPT) for: {missing}"


# --- The write counter itself -------------------------------------------------------------


@pytest.mark.urls("tests.web.urls_write_then_500")
def test_the_write_counter_sees_a_refused_request_that_wrote(world):
    """A view that writes (no audit entry, no history) and then answers 403 is caught."""
    from tests.web.urls_write_then_500 import MARK

    client = _client(world, "alice")
    before = _writes()
    response = client.post("/__tests__/write-then/403/")
    assert response.status_code == 403
    assert response["X-Wrote"] == "entry,user"
    written = _written_since(before)
    assert written == {"auth_user inserted": 1, "tenancy_referenceentry inserted": 1}
    with tenant_context(world.p.tenant_a):
        assert AuditEvent.objects.filter(action__contains=MARK).count() == 0


def test_the_write_counter_sees_a_write_a_rollback_undid(world):
    before = _writes()
    with tenant_context(world.p.tenant_a):
        savepoint = transaction.savepoint()
        ReferenceEntryFactory(code="GONE")
        transaction.savepoint_rollback(savepoint)
        assert not ReferenceEntry.objects.filter(code="GONE").exists()
    assert _written_since(before) == {"tenancy_referenceentry inserted": 1}


def test_the_write_counter_sees_an_allowed_write_and_no_read(world):
    alice = _client(world, "alice")
    before = _writes()
    assert alice.get(_fill("/customers/{customer_a}/", world)).status_code == 200
    assert _written_since(before) == {}
    response = alice.post(_fill("/customers/{customer_a}/status/", world), {"status": "inactive"})
    assert response.status_code == 302
    assert "customers_customer updated" in _written_since(before)
