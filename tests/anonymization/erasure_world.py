"""A customer with one of everything that can name it, for the erasure tests.

Call inside the tenant's context. Everything is made the way the app makes it (services
where they exist), then the tests (or the canary) fill the personal fields.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from anonymization.models import LegalHold
from audit.actors import Actor
from consent.models import ConsentRequest, UnmatchedReply
from consent.services import consent_record, consent_request_create, consent_terms_publish
from customers.models import (
    Activity,
    Address,
    Attachment,
    ChangeRecord,
    Consignee,
    ContactKey,
    CustomerIdCard,
    CustomerKey,
    PredefinedDesignation,
)
from customers.services.contacts import contact_create, contact_link
from notifications.models import MessageEvent, OutboundMessage
from notifications.services import notification_settings_update
from sales.models import SalesDocument
from tenancy.models import ReferenceEntry, ReferenceRegister
from tests.factories import make_customer

SYSTEM = Actor.system("tests")


@dataclass
class World:
    customer: object
    own_contact: object
    shared_contact: object
    other: object  # another customer of the tenant, sharing shared_contact
    objects: dict = field(default_factory=dict)


def _entry(register, code, name):
    return ReferenceEntry.objects.get_or_create(
        register=register, code=code, defaults={"name": name}
    )[0]


def build_world(
    *,
    name="Agneta Blomqvist",
    email="agneta.blomqvist@example.test",
    mobile="+46709876543",
    other_name="Östra Hamnens Bygg AB",
) -> World:
    notification_settings_update(sms_enabled=True)
    if not ConsentRequest.objects.exists():
        from consent.models import ConsentTerms

        if not ConsentTerms.objects.filter(language="sv").exists():
            consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=SYSTEM)
    # A Swedish number written nationally: the customer is Swedish in either tenant.
    customer = make_customer(
        name=name, email=email, mobile=mobile, phone="08-123 456 78", language="sv", country="SE"
    )
    other = make_customer(name=other_name, email="info@ostrahamnen.example.test")
    key_type = _entry(ReferenceRegister.KEY_TYPE, "BRANSCH", "Bransch")
    role = _entry(ReferenceRegister.CONTACT_ROLE, "FAKT", "Fakturamottagare")
    own = contact_create(
        customer=customer,
        actor=SYSTEM,
        first_name="Bertil",
        last_name="Blomqvist",
        email="bertil.blomqvist@example.test",
        mobile="+46701112233",
        roles=[role],
    )
    shared = contact_create(
        customer=customer,
        actor=SYSTEM,
        first_name="Sigrid",
        last_name="Delad",
        email="sigrid@example.test",
    )
    contact_link(contact=shared, customer=other, actor=SYSTEM)
    objects = {
        "address": Address.objects.create(
            customer=customer, kind="postal", line1="Storgatan 1", postcode="11122", city="Sthlm"
        ),
        "consignee": Consignee.objects.create(
            customer=customer, number="1", name=name, reference="Agneta", email=email
        ),
        "customer_key": CustomerKey.objects.create(
            customer=customer, key_type=key_type, value="K-4711"
        ),
        "contact_key": ContactKey.objects.create(contact=own, key_type=key_type, value="CK-1"),
        "designation": PredefinedDesignation.objects.create(customer=customer, text="Projekt A"),
        "id_card": CustomerIdCard.objects.create(
            customer=customer,
            number=f"C-{uuid.uuid4().hex[:8]}",
            reference="Agneta",
            designation="D",
            info="Info",
        ),
        "note": Activity.objects.create(
            customer=customer, kind="note", subject="Samtal", body=f"Ringde {name}"
        ),
        "task": Activity.objects.create(
            customer=customer, kind="task", subject="Ring tillbaka", body="", contact=own
        ),
        "change": ChangeRecord.objects.create(
            customer=customer,
            object_type="customer",
            object_id=customer.pk,
            field="email",
            old_value="old@example.test",
            new_value=email,
        ),
        "hold": LegalHold.objects.create(
            customer=customer, reason="Tvist", set_at=timezone.now(), lifted_at=timezone.now()
        ),
        "invoice": SalesDocument.objects.create(
            kind="invoice",
            number=f"F{uuid.uuid4().hex[:6]}",
            date=date(2020, 1, 15),
            status="closed",
            amount=Decimal("100.00"),
            balance=Decimal("0.00"),
            currency="SEK",
            customer=customer,
            customer_name=name,
            line1="Storgatan 1",
            postcode="11122",
            city="Sthlm",
        ),
    }
    attachment = Attachment(customer=customer, name="avtal.txt", size=5, content_type="text/plain")
    attachment.file.save("avtal.txt", ContentFile(b"avtal"), save=False)
    attachment.save()
    objects["attachment"] = attachment
    email_msg = OutboundMessage.objects.create(
        customer=customer,
        channel="email",
        destination=email,
        language="sv",
        template="test",
        subject=f"Hej {name}",
        body=f"Hej {name}",
        queued_at=timezone.now(),
    )
    sms_msg = OutboundMessage.objects.create(
        customer=customer,
        channel="sms",
        destination=mobile,
        language="sv",
        template="test",
        body="Hej",
        queued_at=timezone.now(),
    )
    objects["email"], objects["sms"] = email_msg, sms_msg
    objects["event"] = MessageEvent.objects.create(
        message=email_msg,
        provider="file",
        event_id=uuid.uuid4().hex,
        status="failed",
        payload={"reject_reason": f"550 <{email}> unknown"},
    )
    request, _token = consent_request_create(customer=customer, channel="sms", actor=SYSTEM)
    objects["request"] = request
    objects["decision"] = consent_record(
        customer=customer,
        decision="granted",
        method="pos",
        terms_version=1,
        context={"store": "Gbg", "staff": "Nils"},
        note="Sa ja i kassan",
        ip="10.1.2.3",
        user_agent="Till/1",
        request=request,
        actor=SYSTEM,
    )
    objects["unmatched"] = UnmatchedReply.objects.create(
        received_at=timezone.now(),
        from_number=mobile,
        number_key="k",
        sender="+46700000000",
        body="JA",
        reason="closed",
        assigned_request_id=request.pk,
    )
    return World(
        customer=customer, own_contact=own, shared_contact=shared, other=other, objects=objects
    )
