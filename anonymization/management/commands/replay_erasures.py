"""Re-apply every recorded erasure after a database backup was restored (issue 10 item 7)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from anonymization.journal import read_journal
from anonymization.replay import replay_erasures
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Re-apply every anonymization, deletion and contact erasure that the erasure "
        "journal (ERASURE_JOURNAL_DIR) records and this database does not show: run it "
        "right after restoring a backup, before users and workers come back. Reports per "
        "tenant what it re-applied; the last line is 'replayed: anonymized=N deleted=M "
        "contacts=K already=L'. A damaged journal stops it (non-zero exit, naming the "
        "line) unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this tenant (its slug)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what would be re-applied, change nothing",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replay the lines that verify although others are damaged",
        )

    def handle(self, *args, **options):
        log = read_journal()
        if not log.exists:
            self.stderr.write(f"No erasure journal at {log.path}: nothing to replay.")
        for problem in log.problems:
            self.stderr.write(f"erasure journal {log.path}: {problem}")
        if not log.ok and not options["force"]:
            raise CommandError(
                f"The erasure journal {log.path} is damaged ({log.problems[0]}); nothing "
                "was replayed. Find out why, then re-run with --force to replay the lines "
                "that still verify."
            )
        entries = log.entries
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant with slug {options['tenant']!r}.")
            entries = [e for e in entries if e.tenant_id == tenant.pk]
        report = replay_erasures(entries, dry_run=options["dry_run"])
        verb = "would re-apply" if report.dry_run else "re-applied"
        for t in report.tenants:
            name = f"{t.slug} (#{t.tenant_id})"
            if not t.found:
                self.stdout.write(f"{name}: not in this database, skipped")
                continue
            self.stdout.write(
                f"{name}: {verb} anonymized={len(t.anonymized)} deleted={len(t.deleted)} "
                f"contacts={len(t.contacts)} already={t.already}"
                + (f" (journal lines {', '.join(map(str, t.lines))})" if t.lines else "")
            )
            for pk, why in sorted(t.kept.items()):
                self.stdout.write(
                    f"{name}: customer {pk} anonymized but not deleted: referenced by {why}"
                )
            for model, pk in t.newer:
                self.stdout.write(
                    f"{name}: {model} {pk} was created after its erasure (another row "
                    "with the same id): left alone"
                )
            for line in t.unsupported:
                self.stdout.write(f"{name}: journal line {line}: cannot replay this kind of row")
        prefix = "would replay" if report.dry_run else "replayed"
        self.stdout.write(
            f"{prefix}: anonymized={report.total('anonymized')} deleted={report.total('deleted')} "
            f"contacts={report.total('contacts')} already={report.total('already')} "
            f"kept={report.total('kept')} newer={report.total('newer')}"
        )
