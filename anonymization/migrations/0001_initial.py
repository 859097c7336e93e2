"""Retention policies and legal holds, tenant-owned with row security (issue 9)."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import tenancy.rls


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("customers", "0008_tenant_fk"),
        ("tenancy", "0002_tenant_fk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LegalHold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.TextField(max_length=500, verbose_name="reason")),
                ("set_at", models.DateTimeField(verbose_name="set at")),
                (
                    "lifted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="lifted at"),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
                (
                    "lifted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="lifted by",
                    ),
                ),
                (
                    "set_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="set by",
                    ),
                ),
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
                "verbose_name": "legal hold",
                "verbose_name_plural": "legal holds",
                "ordering": ["-set_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("lifted_at__isnull", True)),
                        fields=("tenant", "customer"),
                        name="anonymization_one_active_hold",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RetentionPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "customer_years",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20),
                        ],
                        verbose_name="retention for customers (years)",
                    ),
                ),
                (
                    "prospect_years",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20),
                        ],
                        verbose_name="retention for prospects (years)",
                    ),
                ),
                (
                    "preset",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Own settings"),
                            ("DK", "Denmark"),
                            ("SE", "Sweden"),
                            ("NO", "Norway"),
                            ("FI", "Finland"),
                        ],
                        default="",
                        max_length=2,
                        verbose_name="preset",
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
                "verbose_name": "retention policy",
                "verbose_name_plural": "retention policies",
                "constraints": [
                    models.UniqueConstraint(fields=("tenant",), name="anonymization_one_policy"),
                    models.CheckConstraint(
                        condition=models.Q(("prospect_years__lte", models.F("customer_years"))),
                        name="anonymization_prospects_not_longer",
                    ),
                ],
            },
        ),
        tenancy.rls.EnableRowLevelSecurity("retentionpolicy"),
        tenancy.rls.EnableRowLevelSecurity("legalhold"),
        tenancy.rls.AddTenantForeignKey("legalhold", "customer"),
    ]
