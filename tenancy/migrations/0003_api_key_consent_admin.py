"""The ``consent:admin`` scope: an admin's key may publish consent terms (issue 12)."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0002_tenant_fk"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("customers:read", "Read customers"),
                        ("customers:write", "Write customers"),
                        ("consent:write", "Request and record consent"),
                        ("consent:admin", "Publish consent terms"),
                        ("sales:write", "Report sales documents"),
                        ("anonymization:read", "Read anonymization runs"),
                        ("audit:read", "Read the audit log"),
                    ],
                    max_length=40,
                ),
                blank=True,
                default=list,
                size=None,
                verbose_name="scopes",
            ),
        ),
    ]
