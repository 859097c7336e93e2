"""The demo tenant, its users, and the reference registers a Swedish company would have.

Apps add data with ``@demo_seeder`` in their own ``demo.py``; each seeder must
be idempotent (``seed_demo`` runs on every ``make run``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from .models import ReferenceEntry, ReferenceRegister, Tenant
from .roles import Role
from .services import membership_add, tenant_create, user_get_or_create

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@kundreg.test"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the documented demo login

SEEDERS: list[Callable] = []


def demo_seeder(func: Callable) -> Callable:
    SEEDERS.append(func)
    return func


@transaction.atomic
def ensure_demo_tenant() -> Tenant:
    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    if tenant is None:
        tenant = tenant_create(name="Demo Handel AB", country="SE", slug=DEMO_SLUG)
    admin = user_get_or_create(email=DEMO_EMAIL, password=DEMO_PASSWORD, username=DEMO_EMAIL)
    membership_add(tenant=tenant, user=admin, role=Role.ADMIN)
    for name, role in [
        ("bokforing", Role.BOOKKEEPER),
        ("kontor", Role.STAFF),
        ("lager", Role.EMPLOYEE),
    ]:
        email = f"{name}@kundreg.test"
        user = user_get_or_create(email=email, password=DEMO_PASSWORD, username=email)
        membership_add(tenant=tenant, user=user, role=role)
    return tenant


REGISTERS = {
    ReferenceRegister.PAYMENT_TERMS: [
        ("10", "10 dagar netto"),
        ("30", "30 dagar netto"),
        ("KONT", "Kontant"),
        ("FSK", "Förskott"),
    ],
    ReferenceRegister.INVOICE_TYPE: [("E", "E-faktura"), ("P", "Pappersfaktura"), ("M", "E-post")],
    ReferenceRegister.DELIVERY_TERMS: [("FCA", "Fritt transportören"), ("DAP", "Levererat")],
    ReferenceRegister.DELIVERY_METHOD: [
        ("POST", "PostNord"),
        ("DHL", "DHL Freight"),
        ("HAMT", "Hämtas"),
    ],
    ReferenceRegister.DISTRICT: [("N", "Norr"), ("M", "Mitt"), ("S", "Syd"), ("V", "Väst")],
    ReferenceRegister.BUSINESS_AREA: [("BYGG", "Bygg"), ("LANT", "Lantbruk"), ("HAND", "Handel")],
    ReferenceRegister.CUSTOMER_TYPE: [("F", "Företag"), ("P", "Privatperson"), ("O", "Offentlig")],
    ReferenceRegister.CUSTOMER_GROUP: [("A", "A-kunder"), ("B", "B-kunder"), ("C", "C-kunder")],
    ReferenceRegister.CONTACT_TITLE: [
        ("VD", "Verkställande direktör"),
        ("INK", "Inköpare"),
        ("EK", "Ekonomiansvarig"),
    ],
    ReferenceRegister.CONTACT_ROLE: [("NYH", "Nyhetsbrev"), ("FAKT", "Fakturamottagare")],
    ReferenceRegister.KEY_TYPE: [("BRANSCH", "Bransch"), ("STORLEK", "Storlek")],
    ReferenceRegister.PRICE_LIST: [("BAS", "Baspris"), ("AF", "Återförsäljare")],
    ReferenceRegister.DISCOUNT_GROUP: [("R5", "Rabatt 5 %"), ("R10", "Rabatt 10 %")],
    ReferenceRegister.WAREHOUSE: [("HUV", "Huvudlager"), ("GBG", "Lager Göteborg")],
    ReferenceRegister.RESULT_UNIT: [("100", "Försäljning"), ("200", "Service")],
    ReferenceRegister.RESPONSIBILITY_AREA: [("SAL", "Sälj"), ("ADM", "Administration")],
}


@demo_seeder
def seed_reference_registers(*, tenant, rng, size, stdout) -> None:
    for register, entries in REGISTERS.items():
        for order, (code, name) in enumerate(entries):
            ReferenceEntry.objects.get_or_create(
                register=register, code=code, defaults={"name": name, "sort_order": order}
            )
