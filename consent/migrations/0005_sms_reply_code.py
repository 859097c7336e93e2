"""SMS replies: the reply code on a request, the platform's reply routes (no row security,
like notifications.ProviderRoute: a keyed hash of the number, never the number), the
tenant's unmatched replies (row security) and the replies no tenant could be told of.
See consent/replies.py.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import tenancy.rls


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_tenant_fk"),
        ("tenancy", "0002_tenant_fk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="consentrequest",
            name="sms_reply_code",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=8, verbose_name="SMS reply code"
            ),
        ),
        migrations.CreateModel(
            name="UnroutedReply",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("received_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("sender", models.CharField(blank=True, max_length=40)),
                ("provider_message_id", models.CharField(blank=True, max_length=64)),
                (
                    "decision",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("granted", "Consent given"),
                            ("declined", "Consent declined"),
                            ("withdrawn", "Consent withdrawn"),
                        ],
                        max_length=10,
                    ),
                ),
                ("has_code", models.BooleanField(default=False)),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("unparseable", "Neither yes nor no"),
                            ("unknown_code", "The code matches no request"),
                            ("ambiguous", "No code, and more than one request could be meant"),
                            ("no_open_request", "No open request to this number"),
                            ("closed", "The request was already answered or has expired"),
                            ("unknown_sender", "Sent to a number we do not send from"),
                        ],
                        max_length=20,
                    ),
                ),
                ("tenants", models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                "ordering": ["-received_at", "-pk"],
                "indexes": [
                    models.Index(fields=["received_at"], name="consent_unrouted_received_idx")
                ],
            },
        ),
        migrations.CreateModel(
            name="ReplyRoute",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sender", models.CharField(blank=True, max_length=40)),
                ("number_key", models.CharField(max_length=64)),
                ("code", models.CharField(max_length=8)),
                ("request_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("keep_until", models.DateTimeField()),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.tenant",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["keep_until"], name="consent_reply_route_keep_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("sender", "number_key", "code"), name="consent_reply_route_uniq"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="UnmatchedReply",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "received_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="received at"
                    ),
                ),
                ("from_number", models.CharField(blank=True, max_length=40, verbose_name="from")),
                ("number_key", models.CharField(blank=True, editable=False, max_length=64)),
                ("sender", models.CharField(blank=True, max_length=40, verbose_name="sent to")),
                ("body", models.TextField(blank=True, verbose_name="text")),
                (
                    "decision",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("granted", "Consent given"),
                            ("declined", "Consent declined"),
                            ("withdrawn", "Consent withdrawn"),
                        ],
                        max_length=10,
                        verbose_name="understood as",
                    ),
                ),
                ("code", models.CharField(blank=True, max_length=8, verbose_name="code given")),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("unparseable", "Neither yes nor no"),
                            ("unknown_code", "The code matches no request"),
                            ("ambiguous", "No code, and more than one request could be meant"),
                            ("no_open_request", "No open request to this number"),
                            ("closed", "The request was already answered or has expired"),
                            ("unknown_sender", "Sent to a number we do not send from"),
                        ],
                        max_length=20,
                        verbose_name="why it decided nothing",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "To handle"),
                            ("assigned", "Assigned to a request"),
                            ("dismissed", "Dismissed"),
                        ],
                        default="open",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "provider_message_id",
                    models.CharField(blank=True, max_length=64, verbose_name="provider id"),
                ),
                (
                    "assigned_request_id",
                    models.BigIntegerField(blank=True, editable=False, null=True),
                ),
                (
                    "handled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="handled at"),
                ),
                (
                    "handled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="handled by",
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
                "verbose_name": "unmatched SMS reply",
                "verbose_name_plural": "unmatched SMS replies",
                "ordering": ["-received_at", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["tenant", "status", "received_at"], name="consent_reply_status_idx"
                    )
                ],
            },
        ),
        tenancy.rls.EnableRowLevelSecurity("unmatchedreply"),
    ]
