"""Reads of sales documents: a customer's documents, balance, and whether it is a prospect."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum

from customers.models import Customer

from .models import DocumentKind, DocumentStatus, SalesDocument


def documents_of(customer: Customer) -> QuerySet[SalesDocument]:
    return SalesDocument.objects.filter(customer=customer).order_by("-date", "-pk")


def customer_balance(customer: Customer) -> Decimal:
    """The sum of the open balances of the customer's open documents (all currencies)."""
    total = SalesDocument.objects.filter(customer=customer, status=DocumentStatus.OPEN).aggregate(
        total=Sum("balance")
    )["total"]
    return total if total is not None else Decimal("0.00")


def is_prospect(customer: Customer) -> bool:
    """It has documents, and every one of them is a quote."""
    documents = SalesDocument.objects.filter(customer=customer)
    non_quote = documents.exclude(kind=DocumentKind.QUOTE)
    return documents.exists() and not non_quote.exists()


def prospects(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customers among ``customers`` that only ever got quotes (one query)."""
    docs = SalesDocument.objects.filter(customer=OuterRef("pk"))
    return customers.filter(Exists(docs)).exclude(Exists(docs.exclude(kind=DocumentKind.QUOTE)))


def sales_totals(customer: Customer) -> dict:
    """What the card's Sales tab sums up, in one query: counts, open balance, last date,
    and whether the customer is a prospect (documents, all of them quotes)."""
    open_docs = Q(status=DocumentStatus.OPEN)
    totals = SalesDocument.objects.filter(customer=customer).aggregate(
        count=Count("pk"),
        open_count=Count("pk", filter=open_docs),
        balance=Sum("balance", filter=open_docs),
        last_date=Max("date"),
        non_quotes=Count("pk", filter=~Q(kind=DocumentKind.QUOTE)),
    )
    non_quotes = totals.pop("non_quotes")
    totals["balance"] = totals["balance"] if totals["balance"] is not None else Decimal("0.00")
    totals["is_prospect"] = totals["count"] > 0 and non_quotes == 0
    return totals


def documents_all() -> QuerySet[SalesDocument]:
    """The tenant's documents with their customers, newest first (the Sales page)."""
    return SalesDocument.objects.select_related("customer").order_by("-date", "-pk")
