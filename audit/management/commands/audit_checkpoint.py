from django.core.management.base import BaseCommand, CommandError

from audit.anchor import CheckpointFileError, checkpoint_path
from audit.services import audit_checkpoint_write
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Append the head of each of each tenant's audit chains to the checkpoint file "
        "outside the database (AUDIT_CHECKPOINT_DIR); beat does this every 15 minutes. Exits "
        "non-zero when a chain is broken (nothing is anchored for its tenant) or the "
        "checkpoint file is damaged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.all()
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        try:
            run = audit_checkpoint_write(tenants=tenants)
        except CheckpointFileError as exc:
            for problem in exc.log.problems:
                self.stderr.write(f"{exc.log.path}: {problem}")
            raise CommandError("The checkpoint file is damaged; nothing was written.") from exc
        for slug, why in run.refused.items():
            self.stderr.write(f"{slug}: {why}; not checkpointed")
        if run.refused:
            raise CommandError(f"Audit chain broken for {len(run.refused)} tenant(s).")
        self.stdout.write(
            f"{len(run.written)} checkpoint(s) written to {checkpoint_path()}, "
            f"{run.unchanged} unchanged."
        )
