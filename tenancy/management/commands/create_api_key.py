from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import Actor
from tenancy.context import tenant_context
from tenancy.models import ApiKeyScope, Tenant
from tenancy.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a tenant; prints the key as the last line (only its hash is kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scopes",
            default=",".join(ApiKeyScope.values),
            help="comma-separated; default: all of " + ", ".join(ApiKeyScope.values),
        )

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            with tenant_context(tenant):
                _obj, key = api_key_create(
                    name=options["name"], scopes=scopes, actor=Actor.system("create_api_key")
                )
        except ValidationError as exc:
            raise CommandError("; ".join(" ".join(v) for v in exc.message_dict.values())) from exc
        self.stdout.write(key)
