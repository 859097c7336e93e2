"""Foreign keys between consent's tables (and to customers) include the tenant.

See customers/migrations/0008_tenant_fk.py: the database refuses a consent row of one
tenant that points at another tenant's customer, request, terms or batch.
"""

from django.db import migrations

import tenancy.rls

FKS = [
    ("consentrequest", "customer"),
    ("consentrequest", "terms"),
    ("consentrequest", "batch"),
    ("consentdecision", "customer"),
    ("consentdecision", "terms"),
    ("consentdecision", "request"),
    ("consentstate", "customer"),
    ("consentstate", "last_request"),
    ("consentbatchitem", "batch"),
    ("consentbatchitem", "customer"),
    ("consentbatchitem", "request"),
]

# The token index (migration 0001) is removed with its request by the database.
TOKEN_FK = tenancy.rls.add_tenant_fk_sql(
    "consent_token_private",
    "request_id",
    "consent_consentrequest",
    on_delete="CASCADE",
    deferred=False,
)
TOKEN_FK_BACK = tenancy.rls.drop_tenant_fk_sql("consent_token_private", "request_id")


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_lifecycle"),
        ("customers", "0008_tenant_fk"),
    ]

    operations = [
        tenancy.rls.AddTenantKey("consentterms"),
        tenancy.rls.AddTenantKey("consentbatch"),
        tenancy.rls.AddTenantKey("consentrequest"),
        *(tenancy.rls.AddTenantForeignKey(model, field) for model, field in FKS),
        migrations.RunSQL(TOKEN_FK, TOKEN_FK_BACK),
    ]
