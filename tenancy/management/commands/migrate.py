"""``migrate`` runs as the owner role, after preparing extensions and the runtime role.

The application's own connection (``default``) is the runtime role, which may
not change the schema; plain ``manage.py migrate`` therefore means the owner.
"""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import DEFAULT_DB_ALIAS

from tenancy import db_setup


class Command(MigrateCommand):
    def handle(self, *args, **options):
        if options["database"] == DEFAULT_DB_ALIAS:
            options["database"] = "owner"
        db_setup.prepare(options["database"])
        result = super().handle(*args, **options)
        # After every app's post_migrate, so tables created by any app are covered.
        db_setup.grant_runtime_privileges(options["database"])
        return result
