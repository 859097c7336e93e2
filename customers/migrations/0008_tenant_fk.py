"""Foreign keys between the registry's tables include the tenant.

Each foreign key from one tenant-owned table to another gets a composite twin,
``(tenant_id, <field>_id) → (tenant_id, id)``, so the database itself refuses a row
of one tenant that points at another tenant's customer, contact, consignee or
reference entry (row security alone hides such rows, it does not stop a write that
names one). ``tenancy.E004`` fails when a foreign key lacks its twin.
"""

from django.db import migrations

import tenancy.rls

FKS = [
    ("customer", "invoice_type"),
    ("customer", "payment_terms"),
    ("customer", "price_list"),
    ("customer", "alt_price_list_1"),
    ("customer", "alt_price_list_2"),
    ("customer", "alt_price_list_3"),
    ("customer", "discount_group"),
    ("customer", "temp_discount_group"),
    ("customer", "business_area"),
    ("customer", "district"),
    ("customer", "customer_type"),
    ("customer", "result_unit"),
    ("customer", "responsibility_area"),
    ("customer", "cost_result_unit"),
    ("customergrouplink", "customer"),
    ("customergrouplink", "group"),
    ("contact", "title"),
    ("customercontact", "customer"),
    ("customercontact", "contact"),
    ("contactrolelink", "contact"),
    ("contactrolelink", "role"),
    ("activity", "customer"),
    ("activity", "contact"),
    ("attachment", "customer"),
    ("changerecord", "customer"),
    ("address", "customer"),
    ("consignee", "customer"),
    ("consignee", "invoice_type"),
    ("consignee", "delivery_terms"),
    ("consignee", "delivery_method"),
    ("consignee", "price_list"),
    ("consignee", "discount_group"),
    ("consignee", "additional_discount_group"),
    ("consignee", "district"),
    ("consignee", "warehouse"),
    ("consignee", "result_unit"),
    ("keytyperule", "key_type"),
    ("customerkey", "customer"),
    ("customerkey", "key_type"),
    ("contactkey", "contact"),
    ("contactkey", "key_type"),
    ("predefineddesignation", "customer"),
    ("customeridcard", "customer"),
    ("customeridcard", "default_consignee"),
    ("customeridcard", "warehouse"),
    ("selectionentry", "customer"),
]

# The private search copy (migration 0005) is removed with its customer by the database.
SEARCH_FK = tenancy.rls.add_tenant_fk_sql(
    "customers_search_private",
    "customer_id",
    "customers_customer",
    on_delete="CASCADE",
    deferred=False,
)
SEARCH_FK_BACK = tenancy.rls.drop_tenant_fk_sql("customers_search_private", "customer_id")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_through_fields_tenant_m2m"),
        ("tenancy", "0002_tenant_fk"),
    ]

    operations = [
        tenancy.rls.AddTenantKey("customer"),
        tenancy.rls.AddTenantKey("contact"),
        tenancy.rls.AddTenantKey("consignee"),
        *(tenancy.rls.AddTenantForeignKey(model, field) for model, field in FKS),
        migrations.RunSQL(SEARCH_FK, SEARCH_FK_BACK),
    ]
