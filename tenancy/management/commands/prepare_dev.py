"""Everything `make run` does before it starts the processes, in one Python start-up."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, compile translations, refuse an unsafe database role, seed the demo tenant."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("compile_translations")
        # tenancy.E001/E002: no start with tables lacking row security or an owner/superuser role.
        call_command("check", databases=["default"], fail_level="ERROR")
        call_command("seed_demo")
