"""One notion of head office: ``Address.is_head_office``; no address kind says it any more.

The first address used to get the kind "head_office", and "make head office" moved only
the flag, so a former head office went on saying "Head office" as its kind. Every stored
"head_office" kind becomes "postal" (a head office's address is where its mail goes),
whether or not the address is still the head office; the flag is left as it is. A check
constraint keeps the kind from coming back.
"""

from django.conf import settings
from django.db import migrations, models

# The owner is subject to the forced policy (ADR 0001): lift it for this one statement,
# inside the migration's transaction, so every tenant's rows are seen.
FORWARD = """
ALTER TABLE customers_address NO FORCE ROW LEVEL SECURITY;
UPDATE customers_address SET kind = 'postal' WHERE kind = 'head_office';
ALTER TABLE customers_address FORCE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_tenant_fk"),
        ("tenancy", "0002_tenant_fk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(FORWARD, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="address",
            name="kind",
            field=models.CharField(
                choices=[
                    ("postal", "Postal address"),
                    ("visiting", "Visiting address"),
                    ("invoice", "Invoice address"),
                    ("delivery", "Delivery address"),
                ],
                max_length=12,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="address",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "head_office"), _negated=True),
                name="address_kind_not_head_office",
            ),
        ),
    ]
