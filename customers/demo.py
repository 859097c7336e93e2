"""Demo customers: believable Nordic companies and people, with addresses and contacts."""

from __future__ import annotations

from audit.actors import Actor
from tenancy.demo import demo_seeder
from tenancy.models import ReferenceEntry

from .models import Customer
from .services.addresses import address_add
from .services.consignees import consignee_create
from .services.contacts import contact_create, contact_link
from .services.customers import customer_create

ACTOR = Actor.system("seed_demo")

FIRST = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Johan",
    "Åsa",
    "Björn",
    "Ingrid",
    "Sören",
    "Mette",
    "Jørgen",
    "Sigrid",
    "Øystein",
    "Märta",
    "Göran",
    "Ulla",
    "Henrik",
    "Linnéa",
    "Pål",
]
LAST = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Lindqvist",
    "Sørensen",
    "Østergård",
    "Bjørnstad",
    "Hansen",
    "Ødegaard",
    "Åberg",
    "Lindström",
    "Holm",
    "Berg",
    "Sjöberg",
    "Nyström",
    "Dahl",
    "Ekström",
    "Mikkelsen",
]
COMPANY_WORDS = [
    "Bygg",
    "Lantbruk",
    "Maskin",
    "Trä",
    "El",
    "VVS",
    "Transport",
    "Handel",
    "Fastighet",
    "Måleri",
    "Smide",
    "Skog",
    "Jord",
    "Verkstad",
    "Plåt",
]
PLACES = [
    ("Malmö", "211 20"),
    ("Göteborg", "411 04"),
    ("Umeå", "903 26"),
    ("Växjö", "352 30"),
    ("Örebro", "702 10"),
    ("Luleå", "972 31"),
    ("Falun", "791 71"),
    ("Ystad", "271 39"),
    ("Karlstad", "652 24"),
    ("Östersund", "831 30"),
    ("Ålborg", "9000"),
    ("Århus", "8000"),
]
STREETS = [
    "Storgatan",
    "Kungsgatan",
    "Industrivägen",
    "Hamngatan",
    "Bruksvägen",
    "Åvägen",
    "Skolgatan",
    "Järnvägsgatan",
    "Verkstadsgatan",
    "Ängsvägen",
]
FORMS = ["AB", "AB", "AB", "HB", "& Son AB", "Ekonomisk förening"]


def _phone(rng) -> str:
    prefix = f"07{rng.choice('02369')}"
    return f"{prefix}-{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


def _email(name: str, domain: str) -> str:
    table = str.maketrans("åäöøæéü", "aaooaeu")
    return f"{name.lower().translate(table)}@{domain}"


@demo_seeder
def seed_customers(*, tenant, rng, size, stdout) -> None:
    existing = Customer.objects.count()
    if existing >= size:
        return
    districts = list(ReferenceEntry.objects.filter(register="district"))
    areas = list(ReferenceEntry.objects.filter(register="business_area"))
    groups = list(ReferenceEntry.objects.filter(register="customer_group"))
    terms = list(ReferenceEntry.objects.filter(register="payment_terms"))
    shared_contacts = []
    for _ in range(existing, size):
        city, postcode = rng.choice(PLACES)
        person = rng.random() < 0.25
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if person:
            name = f"{first} {last}"
            domain = "example.se"
        else:
            name = f"{last} {rng.choice(COMPANY_WORDS)} {rng.choice(FORMS)}"
            domain = _email(last, "example.se").split("@")[0] + ".example.se"
        customer = customer_create(
            actor=ACTOR,
            name=name,
            kind="person" if person else "company",
            email=_email(first if person else "info", domain),
            phone=_phone(rng),
            language="sv",
            country="SE",
            district=rng.choice(districts) if districts else None,
            business_area=rng.choice(areas) if areas else None,
            payment_terms=rng.choice(terms) if terms else None,
            groups=[rng.choice(groups)] if groups else [],
            description="" if rng.random() < 0.7 else "Kund sedan mässan i Elmia.",
        )
        address_add(
            customer=customer,
            actor=ACTOR,
            kind="postal",
            line1=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            postcode=postcode,
            city=city,
        )
        if rng.random() < 0.3:
            address_add(
                customer=customer,
                actor=ACTOR,
                kind="postal",
                line1=f"Box {rng.randint(100, 9999)}",
                postcode=postcode,
                city=city,
            )
        if not person:
            for _n in range(rng.randint(1, 3)):
                cf, cl = rng.choice(FIRST), rng.choice(LAST)
                contact = contact_create(
                    customer=customer,
                    actor=ACTOR,
                    first_name=cf,
                    last_name=cl,
                    mobile=_phone(rng),
                    email=_email(f"{cf}.{cl}", domain),
                )
                if rng.random() < 0.05:
                    shared_contacts.append(contact)
            if shared_contacts and rng.random() < 0.05:
                contact_link(contact=rng.choice(shared_contacts), customer=customer, actor=ACTOR)
            if rng.random() < 0.2:
                consignee_create(
                    customer=customer,
                    actor=ACTOR,
                    name=f"{name}, lager",
                    line1=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                    postcode=postcode,
                    city=city,
                )
    stdout.write(f"  customers: {Customer.objects.count()}")


NOTES = [
    "Ringde om leveranstider inför våren.",
    "Vill ha offert på ny maskinpark.",
    "Träffades på Elmia, intresserade av ramavtal.",
    "Reklamation löst, kreditfaktura skickad.",
]
TASKS = ["Skicka offert", "Följ upp betalning", "Boka möte om ramavtal", "Uppdatera prislista"]


@demo_seeder
def seed_customer_details(*, tenant, rng, size, stdout) -> None:
    """Notes, tasks, keys, designations and ID cards on some of the demo customers."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import Activity
    from .services.activities import activity_add, activity_complete
    from .services.keys import customer_key_add, designation_add, id_card_create, key_type_rule_set

    if Activity.objects.exists():
        return
    key_types = {e.code: e for e in ReferenceEntry.objects.filter(register="key_type")}
    if "BRANSCH" in key_types:
        key_type_rule_set(
            key_type=key_types["BRANSCH"],
            allow_multiple=True,
            allowed_values=["Bygg", "Lantbruk", "Handel", "Industri"],
            actor=ACTOR,
        )
    if "STORLEK" in key_types:
        key_type_rule_set(
            key_type=key_types["STORLEK"],
            allow_multiple=False,
            allowed_values=["Liten", "Medel", "Stor"],
            actor=ACTOR,
        )
    today = timezone.localdate()
    companies = list(Customer.objects.filter(kind="company").order_by("pk")[: size // 3])
    for n, customer in enumerate(companies):
        activity_add(customer=customer, kind="note", subject=rng.choice(NOTES), actor=ACTOR)
        task = activity_add(
            customer=customer,
            kind="task",
            subject=rng.choice(TASKS),
            actor=ACTOR,
            due_date=today + timedelta(days=rng.randint(-10, 30)),
        )
        if rng.random() < 0.4:
            activity_complete(activity=task, actor=ACTOR)
        if "BRANSCH" in key_types:
            customer_key_add(
                customer=customer,
                key_type=key_types["BRANSCH"],
                value=rng.choice(["Bygg", "Lantbruk", "Handel", "Industri"]),
                actor=ACTOR,
            )
        if "STORLEK" in key_types:
            customer_key_add(
                customer=customer,
                key_type=key_types["STORLEK"],
                value=rng.choice(["Liten", "Medel", "Stor"]),
                actor=ACTOR,
            )
        if n % 5 == 0:
            designation_add(customer=customer, text=f"Projekt {rng.randint(100, 999)}", actor=ACTOR)
            id_card_create(
                customer=customer,
                actor=ACTOR,
                number=f"K{customer.number}-1",
                card_type="Kundkort",
                reference="Inköp",
                pin=str(rng.randint(1000, 9999)),
            )
    stdout.write(f"  notes, tasks and keys on {len(companies)} customers")
