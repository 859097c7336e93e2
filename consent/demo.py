"""Demo consent: the terms in every language and a believable spread of answers."""

from __future__ import annotations

from audit.actors import Actor
from customers.models import Customer
from tenancy.demo import demo_seeder

from .models import ConsentTerms, Decision, ManualHow, Method
from .services import consent_record, consent_request_create, consent_terms_publish

TERMS = {
    "sv": (
        "Vi sparar ditt namn och dina kontaktuppgifter för att kunna leverera, fakturera och "
        "ge dig service, och för att skicka erbjudanden som rör dina köp. Uppgifterna sparas "
        "så länge du är kund och högst 36 månader efter ditt senaste köp. Du kan när som "
        "helst återkalla ditt samtycke via länken i meddelandet eller genom att kontakta oss."
    ),
    "da": (
        "Vi gemmer dit navn og dine kontaktoplysninger for at kunne levere, fakturere og yde "
        "service, og for at sende tilbud om dine køb. Oplysningerne gemmes, så længe du er "
        "kunde, og højst 36 måneder efter dit seneste køb. Du kan altid trække dit samtykke "
        "tilbage via linket i beskeden eller ved at kontakte os."
    ),
    "nb": (
        "Vi lagrer navnet ditt og kontaktopplysningene dine for å kunne levere, fakturere og "
        "gi deg service, og for å sende tilbud som gjelder kjøpene dine. Opplysningene lagres "
        "så lenge du er kunde, og høyst 36 måneder etter siste kjøp. Du kan når som helst "
        "trekke tilbake samtykket via lenken i meldingen eller ved å kontakte oss."
    ),
    "en": (
        "We keep your name and contact details to deliver, invoice and serve you, and to send "
        "offers about your purchases, for as long as you are a customer and at most 36 months "
        "after your last purchase. You can withdraw your consent at any time through the link "
        "in the message or by contacting us."
    ),
}
DEMO = Actor.system("demo")


@demo_seeder
def seed_consent(*, tenant, rng, size, stdout) -> None:
    if ConsentTerms.objects.exists():
        return
    for language, text in TERMS.items():
        consent_terms_publish(language=language, text=text, actor=DEMO)
    customers = list(Customer.objects.exclude(email="").order_by("pk")[: max(size // 3, 1)])
    for customer in customers:
        roll = rng.random()
        if roll < 0.25:
            consent_record(
                customer=customer,
                decision=Decision.GRANTED,
                method=Method.POS,
                terms_version=1,
                context={"store": "Butik Centrum", "terminal": "Kassa 2"},
                actor=DEMO,
            )
        elif roll < 0.45:
            consent_record(
                customer=customer,
                decision=Decision.GRANTED,
                method=Method.MANUAL,
                how=ManualHow.PAPER,
                terms_version=1,
                actor=DEMO,
            )
        elif roll < 0.55:
            consent_record(
                customer=customer,
                decision=Decision.DECLINED,
                method=Method.MANUAL,
                how=ManualHow.PHONE,
                actor=DEMO,
            )
        else:
            # Requests go out through the dev outbox (var/outbox/), like any other.
            consent_request_create(customer=customer, channel="email", actor=DEMO)
    stdout.write(f"Consent: terms in {len(TERMS)} languages, {len(customers)} customers asked.")
