from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (and its first admin); prints the tenant's slug as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--country", required=True, help="ISO 3166 code: SE, DK, NO, FI, ...")
        parser.add_argument("--slug")
        parser.add_argument("--admin-email")
        parser.add_argument("--admin-password")

    def handle(self, *args, **options):
        if options["admin_password"] and not options["admin_email"]:
            raise CommandError("--admin-password needs --admin-email.")
        if len(options["country"]) != 2 or not options["country"].isalpha():
            raise CommandError("--country must be a two-letter ISO code, e.g. SE.")
        try:
            tenant = tenant_create(
                name=options["name"],
                country=options["country"],
                slug=options["slug"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        self.stdout.write(tenant.slug)
