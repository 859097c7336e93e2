# The free-text scan's needles (anonymization/models_scan.py): written by hand like
# the generated ones, with row security (ADR 0007).

import django.db.models.deletion
from django.db import migrations, models

import tenancy.rls


class Migration(migrations.Migration):
    dependencies = [
        ("anonymization", "0005_deletion_runs"),
        ("tenancy", "0002_tenant_fk"),
    ]

    operations = [
        migrations.CreateModel(
            name="ErasureNeedle",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("batch", models.CharField(max_length=40)),
                ("category", models.CharField(max_length=30)),
                ("pattern", models.TextField()),
                ("kind", models.CharField(max_length=6)),
                ("literal", models.TextField()),
                ("first", models.TextField(blank=True, default="")),
                ("second", models.TextField(blank=True, default="")),
                ("key", models.TextField(blank=True, default="")),
                (
                    "tenant",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.tenant",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["tenant", "batch"], name="anonymization_needle_idx")
                ],
            },
        ),
        tenancy.rls.EnableRowLevelSecurity("erasureneedle"),
    ]
