"""Anonymize customers from the shell, through the service the browser uses (docs/api.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from anonymization import eligibility, runs
from anonymization.models import AnonymizationRun, RunSource
from anonymization.registry import ALL_CATEGORIES
from audit.actors import Actor
from tenancy.context import tenant_scope
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Anonymize the given customers (or every eligible one) of a tenant: the same rules, "
        "checks and audit entries as a run started on the Anonymization page. Works the run "
        "through in this process and prints 'run=ID anonymized=N skipped=M' as its last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--customer", type=int, action="append", help="a customer id (repeat)")
        who.add_argument("--eligible", action="store_true", help="every eligible customer")
        parser.add_argument("--note", required=True, help="why (shown in the log; name no one)")
        parser.add_argument(
            "--categories",
            default=",".join(sorted(ALL_CATEGORIES)),
            help="comma-separated kinds of data; default: all of "
            + ", ".join(sorted(ALL_CATEGORIES)),
        )
        parser.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError("Anonymization cannot be undone: add --yes to confirm.")
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        categories = [c.strip() for c in options["categories"].split(",") if c.strip()]
        with tenant_scope(tenant):
            customers = (
                eligibility.eligible_customers() if options["eligible"] else options["customer"]
            )
            try:
                run = runs.anonymization_run_start(
                    customer_ids=customers,
                    actor=Actor.system("anonymize"),
                    source=RunSource.COMMAND,
                    categories=categories,
                    note=options["note"],
                )
            except ValidationError as exc:
                raise CommandError(
                    "; ".join(" ".join(map(str, v)) for v in exc.message_dict.values())
                ) from exc
            # The worker got the run too; whoever takes a chunk first does it (SKIP LOCKED).
            while runs.anonymization_run_chunk(run_id=run.pk):
                run.refresh_from_db()
                self.stderr.write(f"{run.done_count} of {run.total}")
            run = AnonymizationRun.objects.get(pk=run.pk)
        self.stdout.write(f"run={run.pk} anonymized={run.anonymized} skipped={run.skipped}")
