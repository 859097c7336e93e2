"""UNIQUE (tenant_id, id) on reference entries: what tenant-bound foreign keys refer to.

Registry fields link to entries of the tenant's reference registers; the composite
foreign keys added by the apps that link to them (``tenancy.rls.AddTenantForeignKey``)
need this key on the referenced table.
"""

from django.db import migrations

import tenancy.rls


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]

    operations = [tenancy.rls.AddTenantKey("referenceentry")]
