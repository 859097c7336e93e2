"""Seed the demo tenant (idempotent). Each app adds its own data in its ``demo.py``."""

import random

from django.core.management.base import BaseCommand
from django.utils.module_loading import autodiscover_modules

from tenancy.context import tenant_context
from tenancy.demo import DEMO_SLUG, SEEDERS, ensure_demo_tenant


class Command(BaseCommand):
    help = "Create or complete the demo tenant with realistic Nordic data. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        autodiscover_modules("demo")
        tenant = ensure_demo_tenant()
        rng = random.Random(options["seed"])
        for seeder in SEEDERS:
            with tenant_context(tenant):
                seeder(tenant=tenant, rng=rng, size=options["customers"], stdout=self.stdout)
        self.stdout.write(f"Demo tenant ready: {DEMO_SLUG}")
