"""Customer groups and contact roles get tenant-owned link tables with row security.

Django's auto-created many-to-many tables (customers_customer_groups,
customers_contact_roles) had no tenant_id and no row security: the runtime role
could read, delete and insert their rows across tenants. They are replaced by
explicit ``through`` models (CustomerGroupLink, ContactRoleLink) that are
tenant-owned like every other row. Existing links are copied one tenant at a time
with that tenant's variable set, so row security itself decides what is copied: a
link between one tenant's customer and another tenant's entry is left behind.

The fields move onto the link models in the next migration (0007): Django adds the
foreign keys of a table it creates at the end of a migration, so the old tables must
be re-created (when going back) in a migration of their own before rows are copied
into them; checking existing rows against a forced-RLS table would see none.
"""

import django.db.models.deletion
from django.db import migrations, models

import customers.models.common
import tenancy.rls

# For each tenant, with its variable set: the owner is subject to row security too
# (FORCE), so customers, contacts and entries of other tenants are invisible here.
_EACH_TENANT = """
DO $$
DECLARE t bigint;
BEGIN
    FOR t IN SELECT id FROM tenancy_tenant ORDER BY id LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        {body}
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END $$;
"""

COPY_FORWARD = _EACH_TENANT.format(
    body="""
        INSERT INTO customers_customergrouplink (tenant_id, customer_id, group_id)
            SELECT c.tenant_id, g.customer_id, g.referenceentry_id
            FROM customers_customer_groups g
            JOIN customers_customer c ON c.id = g.customer_id
            JOIN tenancy_referenceentry e ON e.id = g.referenceentry_id
            WHERE e.tenant_id = c.tenant_id;
        INSERT INTO customers_contactrolelink (tenant_id, contact_id, role_id)
            SELECT c.tenant_id, r.contact_id, r.referenceentry_id
            FROM customers_contact_roles r
            JOIN customers_contact c ON c.id = r.contact_id
            JOIN tenancy_referenceentry e ON e.id = r.referenceentry_id
            WHERE e.tenant_id = c.tenant_id;
"""
)

COPY_BACKWARD = _EACH_TENANT.format(
    body="""
        INSERT INTO customers_customer_groups (customer_id, referenceentry_id)
            SELECT customer_id, group_id FROM customers_customergrouplink;
        INSERT INTO customers_contact_roles (contact_id, referenceentry_id)
            SELECT contact_id, role_id FROM customers_contactrolelink;
"""
)


def _tenant_field():
    return models.ForeignKey(
        default=customers.models.common.current_tenant_id,
        editable=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="tenancy.tenant",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_search_partitioned"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerGroupLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="customers.customer",
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.referenceentry",
                    ),
                ),
                ("tenant", _tenant_field()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "customer", "group"), name="customer_group_link_uniq"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ContactRoleLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="customers.contact",
                    ),
                ),
                (
                    "role",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.referenceentry",
                    ),
                ),
                ("tenant", _tenant_field()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "contact", "role"), name="contact_role_link_uniq"
                    )
                ],
            },
        ),
        tenancy.rls.EnableRowLevelSecurity("customergrouplink"),
        tenancy.rls.EnableRowLevelSecurity("contactrolelink"),
        migrations.RunSQL(COPY_FORWARD, COPY_BACKWARD),
    ]
