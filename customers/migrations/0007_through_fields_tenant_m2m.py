"""Customer.groups and Contact.roles now go through the tenant-owned link models (0006).

Django cannot add ``through`` to an existing many-to-many field: the field is removed
(its auto-created table, already copied by 0006, goes with it) and added back over the
link model.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_link_models_tenant_m2m")]

    operations = [
        migrations.RemoveField(model_name="customer", name="groups"),
        migrations.RemoveField(model_name="contact", name="roles"),
        migrations.AddField(
            model_name="customer",
            name="groups",
            field=models.ManyToManyField(
                blank=True,
                limit_choices_to={"register": "customer_group"},
                related_name="+",
                through="customers.CustomerGroupLink",
                to="tenancy.referenceentry",
                verbose_name="customer groups",
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="roles",
            field=models.ManyToManyField(
                blank=True,
                limit_choices_to={"register": "contact_role"},
                related_name="+",
                through="customers.ContactRoleLink",
                to="tenancy.referenceentry",
                verbose_name="roles",
            ),
        ),
    ]
