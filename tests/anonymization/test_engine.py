"""The erasure engine (issue 10 items 1 and 2): driven by the PII registry, one
transaction per chunk, kinds that can be deselected, shared contacts, free-text residue,
idempotence and isolation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from anonymization.engine import (
    ALL_CATEGORIES,
    SKIP_ANONYMIZED,
    SKIP_LEGAL_HOLD,
    SKIP_NOT_FOUND,
    anonymize_customers,
    reached,
)
from anonymization.models import LegalHold
from anonymization.registry import (
    ADDRESSES,
    CONTACTS,
    IDENTITY,
    NAME,
    NOTES_FILES,
    PHONE_EMAIL,
    SALES,
    pii,
    uncategorized_fields,
)
from anonymization.scan import text_fields
from audit.models import AuditEvent
from consent.models import ConsentDecision, ConsentRequest, UnmatchedReply
from customers.models import (
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
    CustomerKey,
    PredefinedDesignation,
)
from customers.selectors import search_ids
from notifications.models import MessageEvent, OutboundMessage
from sales.models import SalesDocument
from tenancy.context import tenant_context, tenant_scope
from tests.anonymization.erasure_world import SYSTEM, build_world

NAME_ = "Agneta Blomqvist"
EMAIL = "agneta.blomqvist@example.test"


@pytest.fixture
def world(personas):
    with tenant_context(personas.tenant_a):
        return build_world()


def _anonymize(tenant, ids, **kwargs):
    with tenant_context(tenant):
        return anonymize_customers(ids, actor=SYSTEM, **kwargs)


def test_every_personal_field_that_reaches_a_customer_has_a_category():
    assert uncategorized_fields() == []


def test_the_registry_declares_every_path_the_engine_walks(personas, world):
    with tenant_context(personas.tenant_a):
        rows = reached([world.customer.pk])
    for model in (
        Address,
        Consignee,
        Contact,
        ContactKey,
        ContactRoleLink,
        CustomerKey,
        Activity,
        Attachment,
        OutboundMessage,
        MessageEvent,
        ConsentRequest,
        ConsentDecision,
        UnmatchedReply,
        SalesDocument,
        LegalHold,
        PredefinedDesignation,
    ):
        assert rows.get(model._meta.label), model._meta.label
    # The shared contact is not the customer's alone: it is not erased, only unlinked.
    assert world.shared_contact.pk not in rows["customers.Contact"]
    assert world.own_contact.pk in rows["customers.Contact"]


def test_anonymizing_scrubs_everything_linked(personas, world, django_capture_on_commit_callbacks):
    customer, objects = world.customer, world.objects
    stored = objects["attachment"].file.name
    storage = objects["attachment"].file.storage
    assert storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        result = _anonymize(personas.tenant_a, [customer.pk])
    assert result.anonymized == [customer.pk] and result.skipped == {}
    assert result.files_deleted == [stored] and not storage.exists(stored)
    with tenant_context(personas.tenant_a):
        customer.refresh_from_db()
        assert customer.status == "anonymized"
        assert customer.name == f"Anonymiserad {customer.number}"  # the tenant's language
        assert (customer.email, customer.mobile, customer.phone) == ("", "", "")
        assert NAME_.split()[0].lower() not in customer.search_text
        assert not search_ids("Agneta") and not search_ids("agneta.blomqvist")
        assert Address.objects.get(pk=objects["address"].pk).line1 == ""
        consignee = Consignee.objects.get(pk=objects["consignee"].pk)
        assert (consignee.name, consignee.email, consignee.reference) == ("Anonymiserad", "", "")
        assert not CustomerKey.objects.filter(customer=customer).exists()
        assert not PredefinedDesignation.objects.filter(customer=customer).exists()
        assert not Attachment.objects.filter(customer=customer).exists()
        note = Activity.objects.get(pk=objects["note"].pk)
        assert (note.subject, note.body) == ("—", "")
        change = ChangeRecord.objects.get(pk=objects["change"].pk)
        assert (change.old_value, change.new_value) == ("", "")
        assert LegalHold.objects.get(pk=objects["hold"].pk).reason == ""
        invoice = SalesDocument.objects.get(pk=objects["invoice"].pk)
        assert (invoice.customer_name, invoice.line1, invoice.amount) == (
            "Anonymiserad",
            "",
            objects["invoice"].amount,
        )
        for key in ("email", "sms"):
            message = OutboundMessage.objects.get(pk=objects[key].pk)
            assert (message.destination, message.body, message.subject) == ("anonymized", "—", "")
        assert MessageEvent.objects.get(pk=objects["event"].pk).payload == {}
        assert ConsentRequest.objects.get(pk=objects["request"].pk).destination == ""
        decision = ConsentDecision.objects.get(pk=objects["decision"].pk)
        assert (decision.ip, decision.user_agent, decision.context, decision.note) == (
            None,
            "",
            {},
            "",
        )
        # The proof keeps its non-personal part.
        assert (decision.decision, decision.method, decision.terms_version) == ("granted", "pos", 1)
        assert decision.terms_sha256 == objects["decision"].terms_sha256
        reply = UnmatchedReply.objects.get(pk=objects["unmatched"].pk)
        assert (reply.from_number, reply.body) == ("", "")
        # The customer's own contact: a tombstone; the shared one: unlinked, untouched.
        own = Contact.objects.get(pk=world.own_contact.pk)
        assert own.is_deleted and not own.is_active and own.full_name == "Deleted contact"
        assert (own.first_name, own.last_name, own.email, own.mobile) == ("", "", "", "")
        assert not ContactKey.objects.filter(contact=own).exists()
        assert not ContactRoleLink.objects.filter(contact=own).exists()
        shared = Contact.objects.get(pk=world.shared_contact.pk)
        assert (shared.first_name, shared.email, shared.is_deleted) == (
            "Sigrid",
            "sigrid@example.test",
            False,
        )
        assert list(
            CustomerContact.objects.filter(contact=shared).values_list("customer_id", flat=True)
        ) == [world.other.pk]
        audit = AuditEvent.objects.filter(action="anonymization.chunk").get()
    assert audit.data["anonymized"] == [customer.pk]
    assert NAME_ not in str(audit.data) and EMAIL not in str(audit.data)
    assert result.unlinked == {"customers.Contact": 1}
    assert set(result.per_category) == ALL_CATEGORIES


def test_a_rerun_does_nothing_and_says_so(personas, world):
    _anonymize(personas.tenant_a, [world.customer.pk])
    again = _anonymize(personas.tenant_a, [world.customer.pk])
    assert again.did_nothing and again.skipped == {world.customer.pk: SKIP_ANONYMIZED}


def test_legal_hold_and_unknown_ids_are_skipped_not_raised(personas, world):
    with tenant_context(personas.tenant_a):
        LegalHold.objects.create(customer=world.other, reason="Tvist", set_at=timezone.now())
    result = _anonymize(personas.tenant_a, [world.customer.pk, world.other.pk, 999999])
    assert result.anonymized == [world.customer.pk]
    assert result.skipped == {world.other.pk: SKIP_LEGAL_HOLD, 999999: SKIP_NOT_FOUND}


CHECKS = {
    NAME: lambda c, o: (
        c.name == NAME_ and Consignee.objects.get(pk=o["consignee"].pk).name == NAME_
    ),
    ADDRESSES: lambda c, o: Address.objects.get(pk=o["address"].pk).line1 == "Storgatan 1",
    PHONE_EMAIL: lambda c, o: (
        c.email == EMAIL and OutboundMessage.objects.get(pk=o["email"].pk).destination == EMAIL
    ),
    IDENTITY: lambda c, o: (
        CustomerKey.objects.filter(pk=o["customer_key"].pk).exists()
        and ConsentDecision.objects.get(pk=o["decision"].pk).ip == "10.1.2.3"
    ),
    CONTACTS: lambda c, o: (
        Contact.objects.get(pk=o["contact_key"].contact_id).first_name == "Bertil"
        and CustomerContact.objects.filter(customer=c).count() == 2
    ),
    NOTES_FILES: lambda c, o: (
        Activity.objects.get(pk=o["note"].pk).body == f"Ringde {NAME_}"
        and Attachment.objects.filter(pk=o["attachment"].pk).exists()
    ),
    SALES: lambda c, o: SalesDocument.objects.get(pk=o["invoice"].pk).customer_name == NAME_,
}


@pytest.mark.parametrize("kind", sorted(ALL_CATEGORIES))
def test_a_deselected_kind_stays_untouched(personas, world, kind):
    result = _anonymize(personas.tenant_a, [world.customer.pk], categories=ALL_CATEGORIES - {kind})
    assert result.anonymized == [world.customer.pk] and kind not in result.per_category
    with tenant_context(personas.tenant_a):
        customer = Customer.objects.get(pk=world.customer.pk)
        assert customer.status == "anonymized"
        assert CHECKS[kind](customer, world.objects)
        # The other kinds did go.
        for other, check in CHECKS.items():
            if other != kind:
                assert not check(customer, world.objects), other


def test_free_text_naming_the_person_elsewhere_is_redacted(personas, world):
    with tenant_context(personas.tenant_a):
        elsewhere = Activity.objects.create(
            customer=world.other,
            kind="note",
            subject="Möte",
            body=f"Träffade agneta BLOMQVIST ({EMAIL}, 070-987 65 43) om Östra hamnen.",
        )
        decision = ConsentDecision.objects.filter(customer=world.other).first()
    result = _anonymize(personas.tenant_a, [world.customer.pk])
    with tenant_context(personas.tenant_a):
        body = Activity.objects.get(pk=elsewhere.pk).body
    assert body == "Träffade […] ([…], […]) om Östra hamnen."
    assert result.redacted["customers.Activity"] == 1
    assert decision is None and result.residue == []


def test_residue_that_cannot_be_changed_is_reported(personas, world):
    """A consent decision is append-only: a note naming the person elsewhere stays, and
    the run says where."""
    from consent.services import consent_record

    with tenant_context(personas.tenant_a):
        decision = consent_record(
            customer=world.other,
            decision="granted",
            method="manual",
            terms_version=1,
            note=f"Enligt {NAME_}",
            actor=SYSTEM,
        )
    result = _anonymize(personas.tenant_a, [world.customer.pk])
    assert [(r.model, r.field, r.pk) for r in result.residue] == [
        ("consent.ConsentDecision", "note", decision.pk)
    ]


def test_a_contact_of_two_erased_customers_is_erased(personas, world):
    result = _anonymize(personas.tenant_a, [world.customer.pk, world.other.pk])
    with tenant_context(personas.tenant_a):
        shared = Contact.objects.get(pk=world.shared_contact.pk)
    assert shared.is_deleted and shared.first_name == ""
    assert sorted(result.anonymized) == sorted([world.customer.pk, world.other.pk])


def test_another_tenant_is_untouched_and_invisible(personas):
    with tenant_context(personas.tenant_a):
        a = build_world()
    with tenant_context(personas.tenant_b):
        b = build_world()
    # Under B's scope, A's customer does not exist.
    result = _anonymize(personas.tenant_b, [a.customer.pk])
    assert result.skipped == {a.customer.pk: SKIP_NOT_FOUND} and not result.per_model
    result = _anonymize(personas.tenant_a, [a.customer.pk])
    assert result.anonymized == [a.customer.pk]
    with tenant_context(personas.tenant_b):
        customer = Customer.objects.get(pk=b.customer.pk)
        assert (customer.name, customer.status) == (NAME_, "active")
        assert Activity.objects.get(pk=b.objects["note"].pk).body == f"Ringde {NAME_}"
        assert Contact.objects.get(pk=b.own_contact.pk).first_name == "Bertil"
        assert ConsentDecision.objects.get(pk=b.objects["decision"].pk).note
    # Row security: without a tenant, the runtime role sees nothing of either.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer")
        assert cursor.fetchone()[0] == 0


def test_one_transaction_per_chunk(personas, world, monkeypatch):
    """A failure in the middle leaves the chunk as it was: nobody half-anonymized."""
    from anonymization import engine

    def boom(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine._Erasure, "redact_free_text", boom)
    with pytest.raises(RuntimeError):
        _anonymize(personas.tenant_a, [world.customer.pk])
    with tenant_context(personas.tenant_a):
        customer = Customer.objects.get(pk=world.customer.pk)
        assert (customer.name, customer.status) == (NAME_, "active")
        assert Address.objects.get(pk=world.objects["address"].pk).line1 == "Storgatan 1"


def test_a_chunk_is_a_few_statements_per_model(personas):
    """Set-based: five customers cost the statements one does (no save() per object)."""
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 5):
        with tenant_context(personas.tenant_a):
            ids = [build_world(other_name=f"Annan {size}-{i}").customer.pk for i in range(size)]
        with tenant_context(personas.tenant_a), CaptureQueriesContext(conn) as queries:
            result = anonymize_customers(ids, actor=SYSTEM)
        assert sorted(result.anonymized) == sorted(ids)
        counts.append(len(queries))
    models = len([e for e in pii.entries() if e.reach is not None])
    # The free-text scan reads and redacts, per model, the rows that name someone: the
    # second round finds the first round's worlds too (they share names), never more
    # statements per customer.
    text_models = len([e for e in pii.entries() if text_fields(e)])
    assert counts[1] <= counts[0] + 2 * text_models + 2, counts
    assert counts[0] <= 4 * models + 20, counts


def test_contact_deletion_runs_the_engine(personas, world):
    """contact_delete erases every field the registry classifies, the keys and roles, the
    history about the contact and its name in free text; the row stays as a tombstone."""
    from customers.services.contacts import contact_delete

    contact = world.own_contact
    with tenant_context(personas.tenant_a):
        note = Activity.objects.create(
            customer=world.other, kind="note", subject="Möte", body="Bertil Blomqvist ringde."
        )
        contact_delete(contact=contact, actor=SYSTEM)
        contact = Contact.objects.get(pk=contact.pk)
        for name in pii.personal_fields(Contact):
            assert getattr(contact, name) in ("", [], None), name
        assert contact.is_deleted and str(contact) == "Deleted contact"
        assert not ContactKey.objects.filter(contact=contact).exists()
        assert not ContactRoleLink.objects.filter(contact=contact).exists()
        assert Activity.objects.get(pk=note.pk).body == "[…] ringde."
        # Its links stay ("Deleted contact" on the card); the customer is not anonymized.
        assert CustomerContact.objects.filter(contact=contact).exists()
        assert Customer.objects.get(pk=world.customer.pk).status == "active"
        assert (
            ChangeRecord.objects.filter(object_type="contact", object_id=contact.pk)
            .exclude(old_value="", new_value="")
            .count()
            == 0
        )


def test_two_chunks_sharing_a_contact_leave_no_orphan(live_personas):
    """Chunk A erases one customer of a shared contact, chunk B the other, at the same
    time. Without the lock on the contact each would see the other's link and only unlink:
    a contact with no customer and every personal field left. With it, B waits for A and
    then erases the contact."""
    import threading

    from django.db import connections, transaction

    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        world = build_world()
    a_inside, a_release, errors = threading.Event(), threading.Event(), []

    def chunk(customer_id, hold: bool):
        try:
            with tenant_scope(tenant), transaction.atomic():
                anonymize_customers([customer_id], actor=SYSTEM)
                if hold:
                    a_inside.set()
                    a_release.wait(10)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=chunk, args=(world.customer.pk, True))
    a.start()
    assert a_inside.wait(10)
    b = threading.Thread(target=chunk, args=(world.other.pk, False))
    b.start()
    b.join(1.5)
    assert b.is_alive(), "B must wait for A's lock on the shared contact"
    a_release.set()
    a.join(10)
    b.join(10)
    assert errors == []
    with tenant_context(tenant):
        shared = Contact.objects.get(pk=world.shared_contact.pk)
        assert shared.is_deleted and shared.first_name == "" and shared.email == ""
