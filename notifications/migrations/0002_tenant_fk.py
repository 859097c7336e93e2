"""Foreign keys between notifications' tables (and to customers) include the tenant.

See customers/migrations/0008_tenant_fk.py: the database refuses a message of one
tenant for another tenant's customer, and an event on another tenant's message.
"""

from django.db import migrations

import tenancy.rls


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("customers", "0008_tenant_fk"),
    ]

    operations = [
        tenancy.rls.AddTenantKey("outboundmessage"),
        tenancy.rls.AddTenantForeignKey("outboundmessage", "customer"),
        tenancy.rls.AddTenantForeignKey("messageevent", "message"),
    ]
