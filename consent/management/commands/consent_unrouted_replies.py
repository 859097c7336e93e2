"""List the SMS replies no tenant could be told of (consent.models.UnroutedReply)."""

from django.core.management.base import BaseCommand

from consent.models import UnroutedReply


class Command(BaseCommand):
    help = (
        "List SMS replies that reached no tenant (no number, no text: look a message up at "
        "the provider by its id)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args, limit: int = 100, **options):
        rows = UnroutedReply.objects.all()[: max(limit, 0)]
        for row in rows:
            self.stdout.write(
                f"{row.received_at:%Y-%m-%d %H:%M} {row.provider_message_id or '-'} "
                f"to={row.sender or 'shared'} reason={row.reason} "
                f"understood={row.decision or '-'} code={'yes' if row.has_code else 'no'} "
                f"tenants={row.tenants}"
            )
        self.stdout.write(f"{UnroutedReply.objects.count()} unrouted reply/replies kept.")
