from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify
from tenancy.context import each_tenant
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero when it is broken."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.all()
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        broken = 0
        for current in each_tenant(tenants):
            report = audit_chain_verify()
            if report.ok:
                self.stdout.write(f"{current.slug}: {report.events} events, chain intact")
            else:
                broken += 1
                self.stderr.write(
                    f"{current.slug}: chain broken at event #{report.broken_at} ({report.reason})"
                )
        if broken:
            raise CommandError(f"Audit chain broken for {broken} tenant(s).")
