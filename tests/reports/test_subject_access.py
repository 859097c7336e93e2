"""The data-subject access export (GDPR art. 15/20; issue 11 item 5).

The marker test is built from the PII registry, after the erasure canary
(tests/anonymization/test_canary.py): every personal field of the customer and of every
row the erasure engine reaches from it gets a unique marker, and each must be in the
JSON and in the PDF's text, except the fields the export withholds on purpose. A field
classified tomorrow is covered without editing this test.
"""

from __future__ import annotations

import io
import itertools
import json
import re

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.postgres.fields import ArrayField
from django.core.files.base import ContentFile
from django.db import models
from psycopg import sql
from psycopg.types.json import Jsonb
from pypdf import PdfReader

from anonymization.engine import reached
from anonymization.registry import pii
from audit.models import AuditEvent
from customers.models import FINANCE_FIELDS, ChangeRecord, Customer
from customers.services.addresses import address_add
from customers.services.contacts import contact_create
from customers.services.customers import customer_update
from reports.subject_access import (
    EXPORTED,
    SECTIONS,
    WITHHELD,
    subject_access_data,
    subject_access_export,
)
from tenancy.context import tenant_context
from tests.anonymization.erasure_world import SYSTEM, build_world
from tests.db import superuser
from tests.factories import ApiKeyFactory, make_customer


def _url(pk: int, fmt: str) -> str:
    return f"/reports/customers/{pk}/personal-data.{fmt}"


def _api(pk: int) -> str:
    return f"/api/v1/customers/{pk}/export/"


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def _squeezed(text: str) -> str:
    """Without white space and case: a cell may wrap a value, PDF text extraction may
    space it out."""
    return re.sub(r"\s+", "", text).lower()


# --- Every classified field (registry-driven) ------------------------------------------


class Markers:
    """A unique marker per personal field of each row (the canary's, without the outboxes)."""

    def __init__(self):
        self._n = itertools.count(1)
        self.texts: dict[str, str] = {}  # "app_label.Model.field" -> marker
        self.ips: dict[str, str] = {}

    def value(self, model, f: models.Field, label: str):
        n = next(self._n)
        marker = f"MRK{n:04d}Q"
        if isinstance(f, models.GenericIPAddressField):
            self.ips[label] = f"198.51.100.{n % 250 + 1}"
            return self.ips[label]
        if isinstance(f, models.FileField):
            self.texts[label] = marker
            name = f"tenants/{model._meta.model_name}/{marker}.txt"
            return f.storage.save(name, ContentFile(b"file"))
        if isinstance(f, models.EmailField):
            value = f"{marker.lower()}@example.test"
        elif isinstance(f, models.URLField):
            value = f"https://example.test/{marker}"
        elif isinstance(f, models.JSONField):
            value = {"text": marker}
        elif isinstance(f, ArrayField):
            value = [marker]
        elif isinstance(f, models.CharField | models.TextField):
            value = marker
        else:
            return None  # a link (a contact's title): not a value of its own
        self.texts[label] = marker
        return value


def _fill(tenant, customer_id: int, markers: Markers) -> None:
    """A marker in every personal field of every row an erasure of the customer reaches
    (the engine's own selection, so this test does not trust the export's walk)."""
    with tenant_context(tenant):
        rows = reached([customer_id])
        for entry in pii.reaching():
            if entry.reach.history:
                rows[entry.label] = list(
                    entry.model.objects.filter(**{entry.reach.path: customer_id}).values_list(
                        "pk", flat=True
                    )
                )
    missing = [e.label for e in pii.reaching() if not rows.get(e.label)]
    assert missing == [], f"build a row of these in erasure_world.py: {missing}"
    for entry in pii.reaching():
        model = entry.model
        for pk in rows[entry.label]:
            values = {}
            for name in pii.personal_fields(model):
                f = model._meta.get_field(name)
                if f.many_to_many or f.is_relation:
                    continue
                value = markers.value(model, f, f"{entry.label}.{name}#{pk}")
                if value is not None:
                    values[name] = value
            if not values:
                continue
            if getattr(model, "append_only", False):
                # The runtime role may not change these; the superuser may, triggers off.
                with superuser(django_settings.DATABASES["default"]["NAME"]) as conn:
                    conn.execute("SET session_replication_role = replica")
                    conn.execute(
                        sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
                            sql.Identifier(model._meta.db_table),
                            sql.SQL(", ").join(
                                sql.SQL("{} = %s").format(
                                    sql.Identifier(model._meta.get_field(n).column)
                                )
                                for n in values
                            ),
                        ),
                        [Jsonb(v) if isinstance(v, dict) else v for v in values.values()] + [pk],
                    )
            else:
                with tenant_context(tenant):
                    model.objects.filter(pk=pk).update(**values)


def _field(label: str) -> str:
    return label.split("#")[0]


def test_every_classified_personal_field_is_in_the_json_and_the_pdf(
    live_personas, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        world = build_world()
    markers = Markers()
    _fill(tenant, world.customer.pk, markers)
    assert markers.texts and markers.ips

    with tenant_context(tenant):
        customer = Customer.objects.get(pk=world.customer.pk)
        as_json = subject_access_export(
            customer=customer, actor=SYSTEM, fmt="json", channel="browser", finance=True
        )
        as_pdf = subject_access_export(
            customer=customer, actor=SYSTEM, fmt="pdf", channel="browser", finance=True
        )
    document = as_json.content.decode().lower()
    pdf = _squeezed(_pdf_text(as_pdf.content))
    shown = {k: m for k, m in markers.texts.items() if _field(k) not in WITHHELD}
    assert [k for k, m in shown.items() if m.lower() not in document] == []
    assert [k for k, m in shown.items() if m.lower() not in pdf] == []
    for label, ip in markers.ips.items():
        assert ip in document and ip in pdf, label
    # Withheld on purpose (secrets, derived columns): absent, and listed as withheld.
    hidden = {k: m for k, m in markers.texts.items() if _field(k) in WITHHELD}
    assert hidden, "the world fills the withheld fields too"
    assert [k for k, m in hidden.items() if m.lower() in document + pdf] == []
    listed = {w["field"] for w in json.loads(as_json.content)["withheld"]}
    assert {_field(k) for k in hidden} <= listed
    # The shared contact (still linked to another customer) is this customer's data too.
    contacts = json.loads(as_json.content)["contacts"]
    assert {c["id"] for c in contacts} == {world.own_contact.pk, world.shared_contact.pk}


def test_sections_and_withheld_fields_name_real_models_and_fields():
    """A model that reaches the customer and is not named in SECTIONS goes under "other";
    a name here that no longer exists would hide nothing and is a mistake."""
    labels = {e.label for e in pii.reaching()}
    assert set(SECTIONS) <= labels, "a section names a model that no longer reaches"
    for label in WITHHELD:
        model_label, name = label.rsplit(".", 1)
        assert name in {f.name for f in apps.get_model(model_label)._meta.get_fields()}


# --- The document -----------------------------------------------------------------------


def test_the_document_has_its_header_and_stable_sections(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Åsa Öberg", language="sv", email="asa@example.test")
        data = subject_access_data(customer)
    assert data["format_version"] == 1
    assert data["tenant"] == "Nordljus AB"
    assert data["language"] == "sv"
    assert data["generated_at"]
    assert data["customer"]["name"] == "Åsa Öberg" and data["customer"]["id"] == customer.pk
    assert "tenant" not in data["customer"]
    for section in ("addresses", "contacts", "consignees", "keys", "activities", "files",
                    "consent_requests", "consent_decisions", "consent_receipts", "messages",
                    "sales_documents", "change_history", "audit_entries"):  # fmt: skip
        assert isinstance(data[section], list), section
    # The customer's creation is an audit entry about it: ids and codes, no data.
    created = [e for e in data["audit_entries"] if e["action"] == "customer.created"]
    assert created and set(created[0]) == {
        "seq", "created_at", "action", "actor_type", "actor_id", "object_type", "object_id"
    }  # fmt: skip
    json.dumps(data)  # serialisable as it is


def test_the_pdf_is_in_the_customers_language(personas):
    with tenant_context(personas.tenant_a):
        swede = make_customer(name="Åsa Öberg", language="sv")
        briton = make_customer(name="Ann Smith", language="en")
        unsaid = make_customer(name="Ærø Bådebyg", language="")  # the company's: Swedish
        texts = {}
        for customer in (swede, briton, unsaid):
            address_add(customer=customer, actor=SYSTEM, line1="Storgatan 1", city="Luleå")
            contact_create(customer=customer, actor=SYSTEM, first_name="Øystein", last_name="Ek")
            export = subject_access_export(
                customer=customer, actor=SYSTEM, fmt="pdf", channel="browser", finance=True
            )
            texts[customer.name] = _pdf_text(export.content)
    assert "Adresser" in texts["Åsa Öberg"] and "Kontaktpersoner" in texts["Åsa Öberg"]
    assert "Addresses" not in texts["Åsa Öberg"]
    assert "Addresses" in texts["Ann Smith"] and "Contact persons" in texts["Ann Smith"]
    assert "Adresser" in texts["Ærø Bådebyg"]
    # Nordic letters come out as they went in.
    assert "Åsa Öberg" in texts["Åsa Öberg"] and "Øystein" in texts["Åsa Öberg"]
    assert "Ærø Bådebyg" in texts["Ærø Bådebyg"] and "Luleå" in texts["Ann Smith"]


def test_an_anonymized_customer_is_exported_with_what_is_left(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Gallrad Person", email="gallrad@example.test")
        # What the erasure engine leaves (its own tests prove it does): the row, scrubbed.
        Customer.objects.filter(pk=customer.pk).update(
            status="anonymized", name="Anonymized 1", email="", search_text="", sort_name=""
        )
        ChangeRecord.objects.filter(customer=customer).update(old_value="", new_value="")
    response = personas.client(personas.alice).get(_url(customer.pk, "json"))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["customer"]["status"] == "anonymized"
    assert "Gallrad" not in response.content.decode()
    pdf = personas.client(personas.alice).get(_url(customer.pk, "pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


# --- Views, audit, roles, tenants ------------------------------------------------------


@pytest.fixture
def customer(personas):
    with tenant_context(personas.tenant_a):
        return make_customer(
            name="Åsa Öberg", language="sv", email="asa@example.test", bank_account="1234-5678"
        )


def test_the_card_offers_the_export_to_those_who_may(personas, customer):
    alice = personas.client(personas.alice).get(f"/customers/{customer.pk}/")
    assert _url(customer.pk, "json") in alice.content.decode()
    assert _url(customer.pk, "pdf") in alice.content.decode()
    bob = personas.client(personas.bob).get(f"/customers/{customer.pk}/")
    assert bob.status_code == 200 and "personal-data" not in bob.content.decode()


def test_each_export_is_audited_without_personal_data(personas, customer):
    client = personas.client(personas.alice)
    response = client.get(_url(customer.pk, "json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert client.get(_url(customer.pk, "pdf"))["Content-Type"] == "application/pdf"
    with tenant_context(personas.tenant_a):
        events = list(
            AuditEvent.objects.filter(action=EXPORTED, object_id=str(customer.pk)).order_by("seq")
        )
    assert [(e.object_type, e.data["format"], e.data["channel"]) for e in events] == [
        ("customer", "json", "browser"),
        ("customer", "pdf", "browser"),
    ]
    assert events[0].actor_type == "user" and events[0].actor_id == str(personas.alice.pk)
    assert events[0].data["rows"]["addresses"] == 0
    logged = json.dumps([e.data for e in events])
    for personal in ("Åsa", "Öberg", "asa@example.test", "1234-5678"):
        assert personal not in logged
    # The next export lists the earlier ones among the entries about the customer.
    data = json.loads(client.get(_url(customer.pk, "json")).content)
    assert [e["action"] for e in data["audit_entries"]].count(EXPORTED) == 2


def test_the_cards_history_shows_the_exports(personas, customer):
    client = personas.client(personas.alice)
    history = f"/customers/{customer.pk}/history/"
    assert "has not been exported" in client.get(history).content.decode()
    client.get(_url(customer.pk, "pdf"))
    page = client.get(history).content.decode()
    section = page[page.index('id="personal-data-exports"') :]
    assert "PDF" in section and "alice" in section  # the user by name (issue 14, item 10)
    assert "has not been exported" not in section


@pytest.mark.parametrize(
    ("who", "status"),
    [("alice", 200), ("bea", 200), ("bob", 403), ("erik", 403), ("charlie", 404)],
)
def test_who_may_export_in_the_browser(personas, customer, who, status):
    response = personas.client(getattr(personas, who)).get(_url(customer.pk, "pdf"))
    assert response.status_code == status
    with tenant_context(personas.tenant_a):
        logged = AuditEvent.objects.filter(action=EXPORTED).count()
    assert logged == (1 if status == 200 else 0)


def test_an_unknown_format_is_a_404(personas, customer):
    response = personas.client(personas.alice).get(_url(customer.pk, "xml"))
    assert response.status_code == 404


def test_the_api_gives_the_json_without_finance_fields_to_a_key(personas, customer):
    with tenant_context(personas.tenant_a):
        customer_update(
            customer=customer, actor=SYSTEM, bank_account="9999-0000", phone="070-111 22 33"
        )
    response = personas.api(personas.key_a).get(_api(customer.pk))
    assert response.status_code == 200, response.content[:300]
    data = response.json()
    assert data["customer"]["name"] == "Åsa Öberg"
    assert not set(FINANCE_FIELDS) & set(data["customer"])
    withheld = {w["field"]: w["reason"] for w in data["withheld"]}
    assert withheld["customers.Customer.bank_account"] == "finance"
    assert "1234-5678" not in response.content.decode()
    # Nor in the change history (as the card's history tab hides them).
    assert [c["field"] for c in data["change_history"]] == ["phone"]
    assert "9999-0000" not in response.content.decode()
    # A signed-in bookkeeper sees them, as on the card.
    session = personas.client(personas.bea).get(_api(customer.pk))
    assert session.json()["customer"]["bank_account"] == "9999-0000"
    assert {c["field"] for c in session.json()["change_history"]} == {"phone", "bank_account"}
    with tenant_context(personas.tenant_a):
        event = AuditEvent.objects.filter(action=EXPORTED).order_by("seq").first()
    assert event.actor_type == "api_key" and event.data["channel"] == "api"
    assert event.data["finance"] is False


def test_the_api_answers_404_for_another_tenants_customer(personas, customer):
    for client in (personas.api(personas.key_b), personas.client(personas.charlie)):
        response = client.get(_api(customer.pk))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    with tenant_context(personas.tenant_a):
        assert not AuditEvent.objects.filter(action=EXPORTED).exists()


def test_the_api_needs_both_scopes(personas, customer):
    with tenant_context(personas.tenant_a):
        _key, registry_only = ApiKeyFactory.create(name="Kassa", scopes=["customers:read"])
    response = personas.api(registry_only).get(_api(customer.pk))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert personas.client(personas.bob).get(_api(customer.pk)).status_code == 403


def test_the_api_refuses_an_unknown_query_parameter(personas, customer):
    response = personas.api(personas.key_a).get(_api(customer.pk), {"format_version": "2"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format_version"


def test_the_schema_describes_the_export(db, client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/customers/{id}/export/"]["get"]
    assert operation["operationId"] == "customers_export_retrieve"
    assert "404" in operation["responses"]
