"""Reply codes and routes for open SMS requests sent before reply codes existed."""

from django.core.management.base import BaseCommand

from consent.replies import reply_routes_backfill
from tenancy.context import each_tenant
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Give every open SMS consent request without a reply code a code and a reply route, "
        "so that a bare JA/NEJ to it is routed by the usual rules (run once after deploying)."
    )

    def handle(self, *args, **options):
        total = 0
        for tenant in each_tenant(Tenant.objects.filter(is_active=True)):
            count = reply_routes_backfill()
            if count:
                self.stdout.write(f"{tenant.slug}: {count}")
            total += count
        self.stdout.write(f"{total} request(s) got a reply code.")
