"""Who may be anonymized today, and what keeps the others (the Anonymization page's
selector, ``anonymization.eligibility``, for an operator's shell or a cron report)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from anonymization import eligibility
from customers.models import Customer
from tenancy.context import tenant_scope
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Count the customers of a tenant that may be anonymized today, those blocked and "
        "those waiting for their retention period; --list prints the rows (id, number, the "
        "day they may be anonymized, the reasons they may not yet be)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--prospects", action="store_true", help="only prospects")
        kind.add_argument("--customers", action="store_true", help="only non-prospects")
        parser.add_argument(
            "--list",
            choices=["eligible", "blocked"],
            help="print the eligible or the blocked customers, one per line",
        )
        parser.add_argument(
            "--customer",
            type=int,
            action="append",
            default=[],
            help="print this customer's eligibility (repeatable)",
        )
        parser.add_argument("--limit", type=int, default=1000, help="rows printed by --list")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        prospects = True if options["prospects"] else False if options["customers"] else None
        with tenant_scope(tenant):
            today = eligibility.tenant_today()
            for pk in options["customer"]:
                customer = Customer.objects.filter(pk=pk).first()
                if customer is None:
                    raise CommandError(f"No customer {pk} in {tenant.slug}.")
                self._row(eligibility.eligibility_of(customer, today=today), today)
            if options["list"]:
                select = {
                    "eligible": eligibility.eligible_customers,
                    "blocked": eligibility.blocked_customers,
                }[options["list"]]
                rows = select(today=today, prospects=prospects).order_by("eligible_on", "pk")
                for customer in rows[: max(options["limit"], 0)]:
                    self._row(customer, today)
            eligible = eligibility.eligible_customers(today=today, prospects=prospects).count()
            blocked = eligibility.blocked_customers(today=today, prospects=prospects).count()
            # Prospects or not is known only of customers with documents; the waiting
            # count is of everyone.
            waiting = (
                ""
                if prospects is not None
                else (
                    f", {eligibility.waiting_count(today=today)} waiting for their retention period"
                )
            )
        self.stdout.write(
            f"{tenant.slug} on {today:%Y-%m-%d}: {eligible} eligible, {blocked} blocked{waiting}."
        )

    def _row(self, customer, today) -> None:
        reasons = eligibility.reasons_of(customer, today=today)
        self.stdout.write(
            f"{customer.pk}\t{customer.number}\t{customer.eligible_on:%Y-%m-%d}\t"
            f"{'prospect' if customer.is_prospect else 'customer'}\t"
            f"{','.join(reasons) or 'eligible'}"
        )
