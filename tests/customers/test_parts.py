"""The card's parts: keys and cards, files and links, activities — services and pages."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from openpyxl import Workbook

from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import (
    Activity,
    Attachment,
    ChangeRecord,
    ContactKey,
    Customer,
    CustomerIdCard,
    CustomerKey,
    PredefinedDesignation,
)
from customers.selectors import activity_feed
from customers.services import activities, attachments, keys
from customers.services.consignees import consignee_create
from customers.services.contacts import contact_create, contact_delete
from tenancy.context import tenant_context
from tenancy.models import ReferenceRegister
from tenancy.roles import ROLE_PERMISSIONS, Perm, Role
from tests.factories import ReferenceEntryFactory, make_customer

SYSTEM = Actor.system("test")
KEY_TYPE = ReferenceRegister.KEY_TYPE


@pytest.fixture
def tenant_a(personas):
    with tenant_context(personas.tenant_a):
        yield personas


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def key_type(code: str, **fields):
    return ReferenceEntryFactory(register=KEY_TYPE, code=code, name=code.title(), **fields)


# --- file contents ------------------------------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TEXT = "Kund önskar leverans före kl. 10.\r\nPort 3.\n".encode()
CSV = "nummer;namn\n1001;Östergård Bygg AB\n".encode()
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + (b"This program cannot be run in DOS mode.\r\r\n$")
)


def _xlsx() -> bytes:
    book = Workbook()
    book.active["A1"] = "Prislista"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", EXE)
    return out.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


# === Keys ===================================================================================


def test_key_type_without_rule_occurs_once_with_free_text(tenant_a):
    customer, other = make_customer(name="A AB"), make_customer(name="B AB")
    branch = key_type("BRANSCH")
    keys.customer_key_add(customer=customer, key_type=branch, value="  Bygg  ", actor=SYSTEM)
    assert customer.keys.get().value == "Bygg"
    with pytest.raises(ValidationError) as exc:
        keys.customer_key_add(customer=customer, key_type=branch, value="Handel", actor=SYSTEM)
    assert "key_type" in exc.value.message_dict
    keys.customer_key_add(customer=other, key_type=branch, value="Handel", actor=SYSTEM)
    assert CustomerKey.objects.count() == 2


def test_key_type_allowing_multiples_takes_different_values(tenant_a):
    customer = make_customer()
    interest = key_type("INTRESSE")
    keys.key_type_rule_set(key_type=interest, allow_multiple=True, allowed_values=[], actor=SYSTEM)
    for value in ("Vin", "Öl", "Cider"):
        keys.customer_key_add(customer=customer, key_type=interest, value=value, actor=SYSTEM)
    assert customer.keys.count() == 3
    with pytest.raises(ValidationError) as exc:
        keys.customer_key_add(customer=customer, key_type=interest, value="Vin", actor=SYSTEM)
    assert "value" in exc.value.message_dict


def test_key_value_must_come_from_the_list(tenant_a):
    customer = make_customer()
    size = key_type("STORLEK")
    keys.key_type_rule_set(
        key_type=size, allow_multiple=False, allowed_values=["Liten", "Stor"], actor=SYSTEM
    )
    with pytest.raises(ValidationError) as exc:
        keys.customer_key_add(customer=customer, key_type=size, value="Mellan", actor=SYSTEM)
    assert "Liten, Stor" in exc.value.message_dict["value"][0]
    assert not customer.keys.exists()
    keys.customer_key_add(customer=customer, key_type=size, value="Stor", actor=SYSTEM)


def test_key_needs_a_value_and_a_key_type_of_the_register(tenant_a):
    customer = make_customer()
    with pytest.raises(ValidationError) as exc:
        keys.customer_key_add(customer=customer, key_type=key_type("X"), value=" ", actor=SYSTEM)
    assert "value" in exc.value.message_dict
    terms = ReferenceEntryFactory(register=ReferenceRegister.PAYMENT_TERMS)
    with pytest.raises(ValidationError) as exc:
        keys.customer_key_add(customer=customer, key_type=terms, value="1", actor=SYSTEM)
    assert "key_type" in exc.value.message_dict
    retired = key_type("OLD", is_active=False)
    with pytest.raises(ValidationError) as exc:
        keys.customer_key_add(customer=customer, key_type=retired, value="1", actor=SYSTEM)
    assert "key_type" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        keys.customer_key_add(
            customer=customer, key_type=key_type("Y"), value="x" * 101, actor=SYSTEM
        )
    assert "value" in exc.value.message_dict


def test_key_type_rule_is_cleaned_and_can_change(tenant_a):
    kind = key_type("KIND")
    rule = keys.key_type_rule_set(
        key_type=kind, allow_multiple=False, allowed_values=[" A ", "", "B", "A"], actor=SYSTEM
    )
    assert rule.allowed_values == ["A", "B"]
    again = keys.key_type_rule_set(
        key_type=kind, allow_multiple=True, allowed_values=[], actor=SYSTEM
    )
    assert again.pk == rule.pk and again.allow_multiple and again.allowed_values == []
    with pytest.raises(ValidationError) as exc:
        keys.key_type_rule_set(
            key_type=kind, allow_multiple=True, allowed_values=["x" * 101], actor=SYSTEM
        )
    assert "allowed_values" in exc.value.message_dict


def test_contact_keys_follow_the_same_rules_per_contact(tenant_a):
    customer = make_customer()
    anna = contact_create(customer=customer, actor=SYSTEM, first_name="Anna", last_name="Berg")
    olle = contact_create(customer=customer, actor=SYSTEM, first_name="Olle", last_name="Ek")
    mail = key_type("UTSKICK")
    keys.key_type_rule_set(
        key_type=mail, allow_multiple=False, allowed_values=["Ja", "Nej"], actor=SYSTEM
    )
    keys.contact_key_add(contact=anna, key_type=mail, value="Ja", actor=SYSTEM)
    keys.contact_key_add(contact=olle, key_type=mail, value="Nej", actor=SYSTEM)
    with pytest.raises(ValidationError) as exc:
        keys.contact_key_add(contact=anna, key_type=mail, value="Nej", actor=SYSTEM)
    assert "key_type" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        keys.contact_key_add(contact=olle, key_type=key_type("FRI"), value="", actor=SYSTEM)
    assert "value" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        keys.contact_key_add(contact=anna, key_type=mail, value="Kanske", actor=SYSTEM)
    assert "value" in exc.value.message_dict
    assert ContactKey.objects.count() == 2


def test_contact_key_is_refused_for_a_deleted_contact(tenant_a):
    customer = make_customer()
    contact = contact_create(customer=customer, actor=SYSTEM, last_name="Borta")
    contact_delete(contact=contact, actor=SYSTEM)
    with pytest.raises(ValidationError) as exc:
        keys.contact_key_add(contact=contact, key_type=key_type("K"), value="v", actor=SYSTEM)
    assert "contact" in exc.value.message_dict


def test_keys_are_recorded_in_history_and_audit_without_their_value(tenant_a):
    customer = make_customer()
    branch = key_type("BRANSCH")
    key = keys.customer_key_add(customer=customer, key_type=branch, value="Hemligt", actor=SYSTEM)
    keys.customer_key_remove(key=key, actor=SYSTEM)
    rows = list(ChangeRecord.objects.filter(customer=customer, field="key").order_by("pk"))
    assert [(r.old_value, r.new_value) for r in rows] == [
        ("", "BRANSCH Bransch: Hemligt"),
        ("BRANSCH Bransch: Hemligt", ""),
    ]
    events = AuditEvent.objects.filter(action__startswith="customer_key.")
    assert [e.action for e in events.order_by("seq")] == [
        "customer_key.added",
        "customer_key.removed",
    ]
    assert all("Hemligt" not in str(e.data) for e in events)


def test_contact_key_history_goes_with_a_deleted_contact(tenant_a):
    customer = make_customer()
    contact = contact_create(customer=customer, actor=SYSTEM, first_name="Eva", last_name="Ström")
    hobby = key_type("INTRESSE")
    key = keys.contact_key_add(contact=contact, key_type=hobby, value="Segling", actor=SYSTEM)
    keys.contact_key_remove(key=key, actor=SYSTEM)
    keys.contact_key_add(contact=contact, key_type=hobby, value="Golf", actor=SYSTEM)
    assert ChangeRecord.objects.filter(customer=customer, new_value__contains="Golf").exists()
    contact_delete(contact=contact, actor=SYSTEM)
    texts = [r.old_value + r.new_value for r in ChangeRecord.objects.all()]
    assert not any("Segling" in t or "Golf" in t for t in texts)
    assert not ContactKey.objects.exists()


def test_an_anonymized_customer_takes_no_new_parts(tenant_a, media):
    customer = make_customer()
    Customer.objects.filter(pk=customer.pk).update(status="anonymized")
    customer.refresh_from_db()
    attempts = [
        lambda: keys.customer_key_add(
            customer=customer, key_type=key_type("K"), value="v", actor=SYSTEM
        ),
        lambda: keys.designation_add(customer=customer, text="P", actor=SYSTEM),
        lambda: keys.id_card_create(customer=customer, number="1", actor=SYSTEM),
        lambda: activities.activity_add(customer=customer, kind="note", subject="x", actor=SYSTEM),
        lambda: attachments.attachment_add_link(
            customer=customer, url="https://example.com", name="", actor=SYSTEM
        ),
        lambda: attachments.attachment_add_file(
            customer=customer, uploaded_file=upload("a.pdf", PDF), actor=SYSTEM
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
    assert not AuditEvent.objects.filter(object_type__in=["customer_key", "attachment"]).exists()


# === Designations ===========================================================================


def test_designations_are_required_unique_per_customer(tenant_a):
    customer, other = make_customer(name="A"), make_customer(name="B")
    keys.designation_add(customer=customer, text=" Projekt 12 ", actor=SYSTEM)
    assert customer.designations.get().text == "Projekt 12"
    for text in ("", "projekt 12", "x" * 101):
        with pytest.raises(ValidationError) as exc:
            keys.designation_add(customer=customer, text=text, actor=SYSTEM)
        assert "text" in exc.value.message_dict
    keys.designation_add(customer=other, text="Projekt 12", actor=SYSTEM)
    keys.designation_remove(designation=customer.designations.get(), actor=SYSTEM)
    assert PredefinedDesignation.objects.count() == 1


# === ID cards ================================================================================


def test_id_card_pin_is_stored_hashed_and_never_in_history_or_audit(tenant_a):
    customer = make_customer()
    card = keys.id_card_create(customer=customer, number="7001", pin="482913", actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customeridcard WHERE id = %s", [card.pk])
        row = cursor.fetchone()
    assert not any("482913" in str(value) for value in row)
    assert identify_hasher(card.pin_hash)  # a Django password hash
    keys.id_card_update(card=card, pin="555123", actor=SYSTEM)
    texts = [
        f"{r.old_value} {r.new_value}" for r in ChangeRecord.objects.filter(customer=customer)
    ] + [str(e.data) for e in AuditEvent.objects.all()]
    assert not any("482913" in t or "555123" in t or card.pin_hash in t for t in texts)
    assert ChangeRecord.objects.filter(object_type="customeridcard", field="pin").count() == 2


def test_id_card_pin_check_keep_and_remove(tenant_a):
    customer = make_customer()
    card = keys.id_card_create(customer=customer, number="7002", pin="1234", actor=SYSTEM)
    assert keys.id_card_check_pin(card=card, pin="1234")
    assert not keys.id_card_check_pin(card=card, pin="4321")
    assert not keys.id_card_check_pin(card=card, pin="")
    keys.id_card_update(card=card, reference="Lager", actor=SYSTEM)  # pin=None keeps it
    assert keys.id_card_check_pin(card=card, pin="1234")
    keys.id_card_update(card=card, pin="", actor=SYSTEM)
    card.refresh_from_db()
    assert card.pin_hash == "" and not keys.id_card_check_pin(card=card, pin="1234")
    for bad in ("12", "12ab", "1234567890123", "١٢٣٤"):
        with pytest.raises(ValidationError) as exc:
            keys.id_card_update(card=card, pin=bad, actor=SYSTEM)
        assert "pin" in exc.value.message_dict


def test_id_card_validity_and_number_rules(tenant_a):
    customer = make_customer()
    with pytest.raises(ValidationError) as exc:
        keys.id_card_create(
            customer=customer,
            number="7003",
            valid_from=date(2025, 3, 1),
            valid_to=date(2025, 2, 28),
            actor=SYSTEM,
        )
    assert "valid_to" in exc.value.message_dict
    keys.id_card_create(
        customer=customer,
        number="7003",
        valid_from=date(2025, 3, 1),
        valid_to=date(2025, 3, 1),
        actor=SYSTEM,
    )
    other = make_customer(name="Annan AB")
    with pytest.raises(ValidationError) as exc:
        keys.id_card_create(customer=other, number=" 7003 ", actor=SYSTEM)
    assert "number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        keys.id_card_create(customer=other, number="", actor=SYSTEM)
    assert "number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        keys.id_card_create(customer=other, number="7004", pin_hash="x", actor=SYSTEM)
    assert "pin_hash" in exc.value.message_dict
    assert CustomerIdCard.objects.count() == 1


def test_id_card_default_consignee_must_be_the_customers(tenant_a):
    customer, other = make_customer(name="A"), make_customer(name="B")
    own = consignee_create(customer=customer, actor=SYSTEM, name="Lager Syd")
    foreign = consignee_create(customer=other, actor=SYSTEM, name="Lager Nord")
    with pytest.raises(ValidationError) as exc:
        keys.id_card_create(
            customer=customer, number="8001", default_consignee=foreign, actor=SYSTEM
        )
    assert "default_consignee" in exc.value.message_dict
    card = keys.id_card_create(
        customer=customer, number="8001", default_consignee=own, actor=SYSTEM
    )
    with pytest.raises(ValidationError):
        keys.id_card_update(card=card, default_consignee=foreign, actor=SYSTEM)
    card.refresh_from_db()
    assert card.default_consignee == own
    keys.id_card_delete(card=card, actor=SYSTEM)
    assert not CustomerIdCard.objects.exists()


# === Activities ==============================================================================


def test_activity_feed_splits_planned_from_completed(tenant_a):
    customer = make_customer()
    today = date.today()
    late = activities.activity_add(
        customer=customer,
        kind="task",
        subject="Ring",
        due_date=today + timedelta(days=9),
        actor=SYSTEM,
    )
    soon = activities.activity_add(
        customer=customer,
        kind="task",
        subject="Offert",
        due_date=today + timedelta(days=1),
        actor=SYSTEM,
    )
    done = activities.activity_add(customer=customer, kind="task", subject="Möte", actor=SYSTEM)
    note = activities.activity_add(customer=customer, kind="note", subject="Ringde", actor=SYSTEM)
    activities.activity_complete(activity=done, actor=SYSTEM)
    feed = activity_feed(customer)
    assert feed["planned"] == [soon, late]
    assert set(feed["completed"]) == {done, note}
    activities.activity_reopen(activity=done, actor=SYSTEM)
    assert done in activity_feed(customer)["planned"]
    activities.activity_delete(activity=late, actor=SYSTEM)
    assert late not in activity_feed(customer)["planned"]


def test_activity_input_is_checked(tenant_a):
    customer, other = make_customer(name="A"), make_customer(name="B")
    stranger = contact_create(customer=other, actor=SYSTEM, last_name="Främling")
    cases = [
        ({"kind": "call", "subject": "x"}, "kind"),
        ({"kind": "note", "subject": "  "}, "subject"),
        ({"kind": "note", "subject": "x" * 201}, "subject"),
        ({"kind": "task", "subject": "x", "contact": stranger}, "contact"),
        ({"kind": "note", "subject": "x", "due_date": date.today()}, "due_date"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as exc:
            activities.activity_add(customer=customer, actor=SYSTEM, **kwargs)
        assert field in exc.value.message_dict, kwargs
    assert not Activity.objects.exists()
    own = contact_create(customer=customer, actor=SYSTEM, last_name="Egen")
    task = activities.activity_add(
        customer=customer, kind="task", subject="x", contact=own, actor=SYSTEM
    )
    assert task.contact == own


def test_only_tasks_are_completed_and_completing_twice_is_harmless(tenant_a):
    customer = make_customer()
    note = activities.activity_add(
        customer=customer, kind="note", subject="Anteckning", actor=SYSTEM
    )
    with pytest.raises(ValidationError):
        activities.activity_complete(activity=note, actor=SYSTEM)
    task = activities.activity_add(customer=customer, kind="task", subject="Uppgift", actor=SYSTEM)
    activities.activity_complete(activity=task, actor=SYSTEM)
    first = task.done_at
    activities.activity_complete(activity=task, actor=SYSTEM)
    assert task.done_at == first
    assert AuditEvent.objects.filter(action="activity.completed").count() == 1


# === Files and links ==========================================================================


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("offert.pdf", PDF, "application/pdf"),
        ("logo.PNG", PNG, "image/png"),
        ("foto.jpeg", JPEG, "image/jpeg"),
        ("foto.jpg", JPEG, "image/jpeg"),
        ("info.txt", TEXT, "text/plain"),
        ("lista.csv", CSV, "text/csv"),
        ("priser.xlsx", None, attachments.XLSX),
        ("avtal.docx", None, attachments.DOCX),
    ],
)
def test_allowed_files_are_stored_with_their_type(tenant_a, media, name, content, mime):
    content = content or (_xlsx() if name.endswith("xlsx") else _docx())
    customer = make_customer()
    item = attachments.attachment_add_file(
        customer=customer, uploaded_file=upload(name, content), actor=SYSTEM
    )
    assert item.content_type == mime and item.size == len(content) and item.name == name
    prefix = f"tenants/{tenant_a.tenant_a.pk}/customers/{customer.pk}/"
    assert item.file.name.startswith(prefix) and name not in item.file.name
    assert (media / item.file.name).read_bytes() == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("faktura.pdf", EXE),  # an .exe renamed .pdf
        ("bild.png", PDF),
        ("bild.jpg", PNG),
        ("notes.txt", EXE),
        ("lista.csv", b"a;b\x00\x01\x02"),
        ("priser.xlsx", _zip()),  # a ZIP, but no workbook
        ("avtal.docx", PDF),
        ("setup.exe", EXE),  # an extension that is not allowed
        ("arkiv.zip", _zip()),
        ("utan-filandelse", PDF),
    ],
)
def test_files_with_wrong_type_or_content_are_refused(tenant_a, media, name, content):
    customer = make_customer()
    with pytest.raises(ValidationError) as exc:
        attachments.attachment_add_file(
            customer=customer, uploaded_file=upload(name, content), actor=SYSTEM
        )
    assert "file" in exc.value.message_dict
    assert not Attachment.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_file_size_limit_and_allowed_types_come_from_settings(tenant_a, media, settings):
    customer = make_customer()
    settings.ATTACHMENT_MAX_BYTES = 100
    big = PDF + b"0" * 100
    with pytest.raises(ValidationError) as exc:
        attachments.attachment_add_file(
            customer=customer, uploaded_file=upload("a.pdf", big), actor=SYSTEM
        )
    assert "file" in exc.value.message_dict
    with pytest.raises(ValidationError):
        attachments.attachment_add_file(
            customer=customer, uploaded_file=upload("a.pdf", b""), actor=SYSTEM
        )
    attachments.attachment_add_file(
        customer=customer, uploaded_file=upload("a.pdf", PDF), actor=SYSTEM
    )
    settings.ATTACHMENT_ALLOWED_TYPES = ["image/png"]
    with pytest.raises(ValidationError) as exc:
        attachments.attachment_add_file(
            customer=customer, uploaded_file=upload("b.pdf", PDF), actor=SYSTEM
        )
    assert ".png" in exc.value.message_dict["file"][0]
    assert Attachment.objects.count() == 1


def test_default_limit_is_ten_megabytes(settings):
    del settings.ATTACHMENT_MAX_BYTES  # a no-op when the setting is not there
    assert attachments.max_bytes() == 10 * 1024 * 1024
    assert len(attachments.allowed_types()) == 7


def test_deleting_a_file_removes_it_from_storage_after_commit(
    tenant_a, media, django_capture_on_commit_callbacks
):
    customer = make_customer()
    item = attachments.attachment_add_file(
        customer=customer, uploaded_file=upload("a.pdf", PDF), actor=SYSTEM
    )
    path = media / item.file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        attachments.attachment_delete(attachment=item, actor=SYSTEM)
    assert not path.exists() and not Attachment.objects.exists()
    assert ChangeRecord.objects.filter(customer=customer, field="file", new_value="").exists()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/a",
        "file:///etc/passwd",
        "//example.com",
        "example.com",
        "",
        "https://",
        "https://exa mple.com",
        "https://example.com/" + "a" * 200,
    ],
)
def test_links_must_be_http_or_https(tenant_a, url):
    customer = make_customer()
    with pytest.raises(ValidationError) as exc:
        attachments.attachment_add_link(customer=customer, url=url, name="", actor=SYSTEM)
    assert "url" in exc.value.message_dict
    assert not Attachment.objects.exists()


def test_links_are_added(tenant_a):
    customer = make_customer()
    link = attachments.attachment_add_link(
        customer=customer, url=" https://intranet.example.se/avtal?id=5 ", name="", actor=SYSTEM
    )
    assert link.url == link.name == "https://intranet.example.se/avtal?id=5"
    named = attachments.attachment_add_link(
        customer=customer, url="http://example.com", name="Ramavtal", actor=SYSTEM
    )
    assert named.name == "Ramavtal" and not named.file


# === Pages: permissions and tenant isolation =====================================================


@pytest.fixture
def world(personas, media):
    """Tenant A's customer with one of everything; a second customer; tenant B's customer."""
    p = personas
    with tenant_context(p.tenant_a):
        customer = make_customer(name="Nordic Test AB")
        other = make_customer(name="Annan Kund AB")
        contact = contact_create(
            customer=customer, actor=SYSTEM, first_name="Kim", last_name="Lund"
        )
        stranger = contact_create(customer=other, actor=SYSTEM, last_name="Främling")
        kt = key_type("BRANSCH")
        free_type = key_type("FRITT")
        key = keys.customer_key_add(customer=customer, key_type=kt, value="Bygg", actor=SYSTEM)
        ckey = keys.contact_key_add(contact=contact, key_type=kt, value="Ja", actor=SYSTEM)
        designation = keys.designation_add(customer=customer, text="P-1", actor=SYSTEM)
        card = keys.id_card_create(customer=customer, number="9001", pin="2468", actor=SYSTEM)
        foreign_consignee = consignee_create(customer=other, actor=SYSTEM, name="Andras lager")
        task = activities.activity_add(
            customer=customer, kind="task", subject="Ring Kim", actor=SYSTEM
        )
        item = attachments.attachment_add_file(
            customer=customer, uploaded_file=upload("offert.pdf", PDF), actor=SYSTEM
        )
        other_item = attachments.attachment_add_file(
            customer=other, uploaded_file=upload("annan.pdf", PDF), actor=SYSTEM
        )
    with tenant_context(p.tenant_b):
        b_customer = make_customer(name="Fjordvik Kunde AS", country="NO")
    return {
        "p": p,
        "customer": customer,
        "other": other,
        "contact": contact,
        "stranger": stranger,
        "key_type": kt,
        "free_type": free_type,
        "key": key,
        "ckey": ckey,
        "designation": designation,
        "card": card,
        "foreign_consignee": foreign_consignee,
        "task": task,
        "item": item,
        "other_item": other_item,
        "b_customer": b_customer,
    }


PAGES = [
    "/customers/{c}/keys/",
    "/customers/{c}/files/",
    "/customers/{c}/activities/",
    "/customers/{c}/files/{item}/download/",
]


def _fmt(url: str, w) -> str:
    return url.format(c=w["customer"].pk, item=w["item"].pk)


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("bea", 200), ("bob", 200), ("erik", 403), ("charlie", 404)]
)
def test_read_pages_by_persona(world, url, who, status):
    p = world["p"]
    response = p.client(getattr(p, who)).get(_fmt(url, world))
    assert response.status_code == status


def test_anonymous_is_sent_to_login(world):
    from django.test import Client

    for url in PAGES:
        response = Client().get(_fmt(url, world))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _writes(w) -> list[tuple[str, dict]]:
    c = w["customer"].pk
    return [
        (f"/customers/{c}/keys/add/", {"key_type": w["free_type"].pk, "value": "Handel"}),
        (f"/customers/{c}/keys/{w['key'].pk}/remove/", {}),
        (f"/customers/{c}/keys/contact-keys/{w['ckey'].pk}/remove/", {}),
        (f"/customers/{c}/designations/add/", {"text": "P-2"}),
        (f"/customers/{c}/designations/{w['designation'].pk}/remove/", {}),
        (f"/customers/{c}/id-cards/new/", {"number": "9100"}),
        (f"/customers/{c}/id-cards/{w['card'].pk}/", {"number": "9001", "reference": "Ny"}),
        (f"/customers/{c}/id-cards/{w['card'].pk}/delete/", {}),
        (f"/customers/{c}/files/link/", {"url": "https://example.com", "name": "Ex"}),
        (f"/customers/{c}/files/{w['item'].pk}/delete/", {}),
        (f"/customers/{c}/activities/add/", {"kind": "note", "subject": "Hej"}),
        (f"/customers/{c}/activities/{w['task'].pk}/complete/", {}),
        (f"/customers/{c}/activities/{w['task'].pk}/reopen/", {}),
        (f"/customers/{c}/activities/{w['task'].pk}/delete/", {}),
        (f"/customers/{c}/update-from-registry/", {"name": "on"}),
    ]


def _audit_count(tenant) -> int:
    with tenant_context(tenant):
        return AuditEvent.objects.count()


@pytest.mark.parametrize(("who", "status"), [("erik", 403), ("charlie", 404)])
def test_writes_are_refused_and_change_nothing(world, who, status):
    p = world["p"]
    client = p.client(getattr(p, who))
    before = _audit_count(p.tenant_a), _audit_count(p.tenant_b)
    for url, data in _writes(world):
        assert client.post(url, data).status_code == status, url
    assert (_audit_count(p.tenant_a), _audit_count(p.tenant_b)) == before
    with tenant_context(p.tenant_a):
        assert CustomerKey.objects.count() == 1 and ContactKey.objects.count() == 1
        assert CustomerIdCard.objects.count() == 1 and Attachment.objects.count() == 2


def test_staff_can_write_everything(world, django_capture_on_commit_callbacks):
    p = world["p"]
    client = p.client(p.bob)
    for url, data in _writes(world)[:-1]:  # the registry update has its own tests
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.content[:500])


def test_get_on_post_only_urls_is_405(world):
    client = world["p"].client(world["p"].alice)
    for url, _data in _writes(world):
        if ("id-cards" in url and not url.endswith("delete/")) or "update-from-registry" in url:
            continue  # these are forms that GET shows
        assert client.get(url).status_code == 405, url


def test_garbage_and_foreign_ids_are_404(world):
    p, c = world["p"], world["customer"].pk
    client = p.client(p.alice)
    huge = 2**70
    urls = [
        f"/customers/{huge}/keys/",
        f"/customers/{world['b_customer'].pk}/keys/",
        f"/customers/{c}/files/{huge}/download/",
        f"/customers/{c}/files/{world['other_item'].pk}/download/",  # another customer's file
        f"/customers/{world['other'].pk}/files/{world['item'].pk}/download/",
        f"/customers/{c}/id-cards/{huge}/",
        f"/customers/{world['other'].pk}/id-cards/{world['card'].pk}/",
        f"/customers/{huge}/update-from-registry/",
        "/customers/key-types/999999/",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    posts = [
        f"/customers/{world['other'].pk}/keys/{world['key'].pk}/remove/",
        f"/customers/{world['other'].pk}/keys/contact-keys/{world['ckey'].pk}/remove/",
        f"/customers/{c}/activities/{huge}/complete/",
        f"/customers/{world['other'].pk}/activities/{world['task'].pk}/delete/",
    ]
    for url in posts:
        assert client.post(url).status_code == 404, url


def test_charlie_sees_only_his_own_tenant(world):
    p = world["p"]
    client = p.client(p.charlie)
    response = client.get(f"/customers/{world['b_customer'].pk}/keys/")
    assert response.status_code == 200
    assert "Nordic Test AB" not in response.content.decode()


def test_download_is_an_attachment_that_is_not_sniffed(world):
    p = world["p"]
    response = p.client(p.bob).get(_fmt("/customers/{c}/files/{item}/download/", world))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="offert.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_view_only_role_may_open_files_but_not_change_them(world, monkeypatch):
    """Seed 001: read-only users view files, edit rights add them."""
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.EMPLOYEE, frozenset({Perm.REGISTRY_VIEW, Perm.CUSTOMER_PICK})
    )
    p = world["p"]
    client = p.client(p.erik)
    assert client.get(_fmt("/customers/{c}/files/{item}/download/", world)).status_code == 200
    page = client.get(_fmt("/customers/{c}/files/", world)).content.decode()
    assert "offert.pdf" in page and 'enctype="multipart/form-data"' not in page
    assert client.post(_fmt("/customers/{c}/files/{item}/delete/", world)).status_code == 403
    upload_url = _fmt("/customers/{c}/files/upload/", world)
    assert client.post(upload_url, {"file": upload("x.pdf", PDF)}).status_code == 403
    feed = client.get(_fmt("/customers/{c}/activities/", world)).content.decode()
    assert "Ring Kim" in feed and "Mark as done" not in feed


def test_upload_view_refuses_an_exe_named_pdf_with_a_field_error(world):
    p = world["p"]
    url = _fmt("/customers/{c}/files/upload/", world)
    response = p.client(p.bob).post(url, {"file": upload("faktura.pdf", EXE), "name": ""})
    assert response.status_code == 200
    assert 'id="file_file_error"' in response.content.decode()
    response = p.client(p.bob).post(url, {"file": upload("faktura.pdf", PDF), "name": "Faktura"})
    assert response.status_code == 302
    with tenant_context(p.tenant_a):
        assert world["customer"].attachments.filter(name="Faktura").exists()


def test_link_view_refuses_javascript(world):
    p = world["p"]
    url = _fmt("/customers/{c}/files/link/", world)
    response = p.client(p.bob).post(url, {"url": "javascript:alert(1)", "name": "x"})
    assert response.status_code == 200
    assert 'id="link_url_error"' in response.content.decode()


def test_full_pages_extend_base_and_link_back_to_the_card(world):
    p, c = world["p"], world["customer"].pk
    client = p.client(p.alice)
    for url in (f"/customers/{c}/keys/", f"/customers/{c}/files/", f"/customers/{c}/activities/"):
        html = client.get(url).content.decode()
        assert "<!doctype html>" in html and f'href="/t/nordljus/customers/{c}/"' in html, url


def test_activities_answer_htmx_with_the_partial(world):
    p, c = world["p"], world["customer"].pk
    client = p.client(p.bob)
    partial = client.get(f"/customers/{c}/activities/", headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert f'id="activity-feed-{c}"' in html and "Ring Kim" in html
    response = client.post(
        f"/customers/{c}/activities/add/",
        {
            "kind": "task",
            "subject": "Skicka offert",
            "due_date": "2030-01-31",
            "contact": world["contact"].pk,
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "Skicka offert" in response.content.decode()
    with tenant_context(p.tenant_a):
        added = Activity.objects.get(subject="Skicka offert")
    assert added.contact_id == world["contact"].pk and added.due_date == date(2030, 1, 31)
    done = client.post(
        f"/customers/{c}/activities/{added.pk}/complete/", headers={"HX-Request": "true"}
    )
    assert done.status_code == 200 and "Reopen" in done.content.decode()


def test_activity_planned_and_completed_sections_on_the_page(world):
    p, c = world["p"], world["customer"].pk
    with tenant_context(p.tenant_a):
        customer = world["customer"]
        activities.activity_add(
            customer=customer, kind="note", subject="Anteckning A", actor=SYSTEM
        )
        done = activities.activity_add(
            customer=customer, kind="task", subject="Klar B", actor=SYSTEM
        )
        activities.activity_complete(activity=done, actor=SYSTEM)
    html = p.client(p.alice).get(f"/customers/{c}/activities/").content.decode()
    planned, completed = html.split(f'id="completed-{c}"')
    assert "Ring Kim" in planned and "Klar B" not in planned and "Anteckning A" not in planned
    assert "Klar B" in completed and "Anteckning A" in completed and "Ring Kim" not in completed


def test_activity_add_with_another_customers_contact_is_a_field_error(world):
    p, c = world["p"], world["customer"].pk
    client = p.client(p.bob)
    for data in (
        {"kind": "note", "subject": "x", "contact": world["stranger"].pk},
        {"kind": "note", "subject": "x", "contact": "abc"},
        {"kind": "task", "subject": "", "due_date": "not-a-date"},
        {"kind": "nonsense", "subject": ""},
    ):
        response = client.post(f"/customers/{c}/activities/add/", data)
        assert response.status_code == 200, data
        assert 'class="field-error"' in response.content.decode(), data
    with tenant_context(p.tenant_a):
        assert Activity.objects.count() == 1


def test_key_add_view_errors_are_field_level(world):
    p, c = world["p"], world["customer"].pk
    client = p.client(p.bob)
    url = f"/customers/{c}/keys/add/"
    response = client.post(url, {"key_type": world["key_type"].pk, "value": "Handel"})  # once only
    assert response.status_code == 200 and 'id="id_key_type_error"' in response.content.decode()
    response = client.post(
        url, {"key_type": world["key_type"].pk, "value": "x", "contact": world["stranger"].pk}
    )
    assert 'id="id_contact_error"' in response.content.decode()
    response = client.post(url, {"key_type": "999999", "value": "x"})
    assert 'id="id_key_type_error"' in response.content.decode()
    with tenant_context(p.tenant_a):
        second = key_type("OMRÅDE")
    response = client.post(
        url, {"key_type": second.pk, "value": "Norr", "contact": world["contact"].pk}
    )
    assert response.status_code == 302
    with tenant_context(p.tenant_a):
        assert world["contact"].keys.filter(value="Norr").exists()


def test_key_page_offers_the_value_list_of_a_chosen_key_type(world):
    p, c = world["p"], world["customer"].pk
    with tenant_context(p.tenant_a):
        size = key_type("STORLEK")
        keys.key_type_rule_set(
            key_type=size, allow_multiple=False, allowed_values=["Liten", "Stor"], actor=SYSTEM
        )
    client = p.client(p.alice)
    html = client.get(f"/customers/{c}/keys/?key_type={size.pk}").content.decode()
    assert '<option value="Liten">Liten</option>' in html
    assert client.get(f"/customers/{c}/keys/?key_type=nonsense&contact=x").status_code == 200
    response = client.post(f"/customers/{c}/keys/add/", {"key_type": size.pk, "value": "Mellan"})
    assert 'id="id_value_error"' in response.content.decode()


def test_id_card_form_refuses_another_customers_consignee_and_keeps_the_pin_secret(world):
    p, c, card = world["p"], world["customer"].pk, world["card"]
    client = p.client(p.bob)
    url = f"/customers/{c}/id-cards/{card.pk}/"
    response = client.post(
        url, {"number": "9001", "default_consignee": world["foreign_consignee"].pk}
    )
    assert 'id="id_default_consignee_error"' in response.content.decode()
    response = client.post(
        url, {"number": "9001", "valid_from": "2025-05-02", "valid_to": "2025-05-01"}
    )
    assert 'id="id_valid_to_error"' in response.content.decode()
    response = client.post(url, {"number": "9001", "pin": "12"})
    assert 'id="id_pin_error"' in response.content.decode()
    page = client.get(url).content.decode()
    assert "2468" not in page and card.pin_hash not in page and 'name="remove_pin"' in page
    assert client.post(url, {"number": "9001", "reference": "Kassa 2"}).status_code == 302
    with tenant_context(p.tenant_a):
        card.refresh_from_db()
        assert card.reference == "Kassa 2" and keys.id_card_check_pin(card=card, pin="2468")
    assert client.post(url, {"number": "9001", "remove_pin": "on"}).status_code == 302
    with tenant_context(p.tenant_a):
        card.refresh_from_db()
        assert card.pin_hash == ""


def test_key_type_rules_page_is_for_admins(world):
    p = world["p"]
    kt = world["key_type"]
    assert p.client(p.bob).get("/customers/key-types/").status_code == 403
    assert p.client(p.charlie).get(f"/customers/key-types/{kt.pk}/").status_code == 404
    client = p.client(p.alice)
    assert client.get("/customers/key-types/").status_code == 200
    response = client.post(
        f"/customers/key-types/{kt.pk}/",
        {"allow_multiple": "on", "allowed_values": "Bygg\nHandel\n"},
    )
    assert response.status_code == 302
    with tenant_context(p.tenant_a):
        rule = kt.key_rules.get()
    assert rule.allow_multiple and rule.allowed_values == ["Bygg", "Handel"]


def test_designation_and_key_remove_views(world):
    p, c = world["p"], world["customer"].pk
    client = p.client(p.bob)
    response = client.post(f"/customers/{c}/designations/add/", {"text": "p-1"})
    assert 'id="designation_text_error"' in response.content.decode()
    assert (
        client.post(f"/customers/{c}/designations/{world['designation'].pk}/remove/").status_code
        == 302
    )
    assert client.post(f"/customers/{c}/keys/{world['key'].pk}/remove/").status_code == 302
    with tenant_context(p.tenant_a):
        assert not PredefinedDesignation.objects.exists() and not CustomerKey.objects.exists()
