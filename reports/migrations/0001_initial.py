"""The tenant's report settings (label sheet layout), tenant-owned with row security."""

import django.db.models.deletion
from django.db import migrations, models

import tenancy.rls


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tenancy", "0003_api_key_consent_admin"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "label_layout",
                    models.CharField(
                        choices=[
                            ("3x8", "3 x 8 labels of 70 x 36 mm"),
                            ("2x7", "2 x 7 labels of 99.1 x 38.1 mm"),
                            ("3x7", "3 x 7 labels of 70 x 42.3 mm"),
                        ],
                        default="3x8",
                        max_length=8,
                        verbose_name="label sheet",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
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
                "verbose_name": "report settings",
                "verbose_name_plural": "report settings",
                "constraints": [
                    models.UniqueConstraint(fields=("tenant",), name="reports_one_settings")
                ],
            },
        ),
        tenancy.rls.EnableRowLevelSecurity("reportsettings"),
    ]
