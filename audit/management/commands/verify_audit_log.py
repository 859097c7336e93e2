from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.anchor import read_checkpoints
from audit.selectors import audit_chain_verify
from tenancy.context import each_tenant
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Verify every hash chain of each tenant's audit log, their keyed hashes and their "
        "last checkpoints outside the database; exits non-zero when anything is broken or "
        "missing (the chain and event number are reported)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.all()
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        checkpoints = read_checkpoints()
        broken = 0
        if not checkpoints.exists:
            self.stdout.write(
                f"No checkpoint file at {checkpoints.path}: only the keyed hashes are checked."
            )
        for problem in checkpoints.problems:
            self.stderr.write(f"{checkpoints.path}: {problem}")
        seen = set()
        for current in each_tenant(tenants):
            seen.add(current.pk)
            with transaction.atomic():
                report = audit_chain_verify(checkpoints=checkpoints.heads(current.pk))
            if not report.ok:
                broken += 1
                self.stderr.write(
                    f"{current.slug}: chain {report.chain} broken at event "
                    f"#{report.broken_at} ({report.reason})"
                )
                continue
            intact = f"{current.slug}: {report.events} events in {len(report.chains)} chain(s)"
            anchored = report.checkpoints
            if not anchored:
                self.stdout.write(f"{intact}, chain intact (no checkpoint yet)")
            else:
                newest = max(anchored, key=lambda c: c.line)
                self.stdout.write(
                    f"{intact}, chain intact, matches the checkpoint of {newest.at} "
                    f"({len(anchored)} chain head(s) anchored)"
                )
        if not tenant:
            # A checkpointed chain can only vanish with its tenant if its events went first.
            for gone in sorted(checkpoints.tenants - seen):
                broken += 1
                heads = checkpoints.heads(gone).values()
                newest = max(heads, key=lambda c: c.line)
                self.stderr.write(
                    f"tenant #{gone}: missing from the database, but its checkpoint of "
                    f"{newest.at} counted {sum(c.count for c in heads)} events"
                )
        if checkpoints.problems:
            raise CommandError(
                f"The checkpoint file is damaged ({len(checkpoints.problems)} problem(s))"
                + (f"; audit chain broken for {broken} tenant(s)." if broken else ".")
            )
        if broken:
            raise CommandError(f"Audit chain broken for {broken} tenant(s).")
        self.stdout.write(f"{len(seen)} audit chain(s) intact.")
