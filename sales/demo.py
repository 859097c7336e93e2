"""Demo sales history: twelve years of quotes, orders and invoices, so that the Sales tab,
the "last activity before" filter and the Anonymization page have something to show under
``make run`` (some customers long gone and eligible, some blocked by an open invoice, a
dispute on legal hold, prospects that only ever got quotes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from audit.actors import Actor
from customers.models import Customer
from tenancy.demo import demo_seeder

from .models import DocumentKind, DocumentStatus, SalesDocument
from .services import sales_document_post

ACTOR = Actor.system("seed_demo")


def _post(customer, kind, number, date, *, status=DocumentStatus.CLOSED, amount, balance="0"):
    sales_document_post(
        customer=customer,
        kind=kind,
        number=number,
        date=date,
        status=status,
        amount=Decimal(amount),
        balance=Decimal(balance),
        actor=ACTOR,
    )


@demo_seeder
def seed_sales_documents(*, tenant, rng, size, stdout) -> None:
    from anonymization.services import legal_hold_set

    if SalesDocument.objects.exists():
        return
    today = dt.date.today()
    customers = list(Customer.objects.order_by("pk"))
    numbers = {kind: 1000 for kind in DocumentKind.values}

    def number(kind: str) -> str:
        numbers[kind] += 1
        return f"{kind[:2].upper()}-{numbers[kind]}"

    for n, customer in enumerate(customers):
        share = n % 10
        if share == 9:
            continue  # never bought anything: counts from its creation
        # Most customers bought recently; every fourth stopped buying 8-12 years ago.
        years_ago = rng.randint(8, 12) if share in (0, 4) else rng.randint(0, 3)
        last = today - dt.timedelta(days=365 * years_ago + rng.randint(0, 300))
        if share == 7:  # a prospect: only quotes
            _post(customer, "quote", number("quote"), last, amount=rng.randint(2, 80) * 500)
            continue
        amount = rng.randint(1, 60) * 250
        _post(customer, "order", number("order"), last - dt.timedelta(days=14), amount=amount)
        open_invoice = share == 4 or (years_ago == 0 and rng.random() < 0.3)
        _post(
            customer,
            "invoice",
            number("invoice"),
            last,
            status=DocumentStatus.OPEN if open_invoice else DocumentStatus.CLOSED,
            amount=amount,
            balance=amount if open_invoice else 0,
        )
        if share == 0 and n % 20 == 0:
            legal_hold_set(customer=customer, reason="Tvist om reklamation (demo)", actor=ACTOR)
    stdout.write(f"  sales documents: {SalesDocument.objects.count()}")
