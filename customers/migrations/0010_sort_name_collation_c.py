"""``sort_name`` compares in byte order ("C") whatever the database's own collation.

``customers.search.sort_key`` encodes the Nordic letters after z as "{", "|" and "}"; a
database created in a linguistic locale (the compose image's en_US.utf8) ignores those
characters, so Å, Ä and Ö names sorted first and out of order. PostgreSQL rebuilds every
index on the column as part of the ALTER, the partial ones of anonymization's 0002 too.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_address_kind_not_head_office")]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="sort_name",
            field=models.CharField(db_collation="C", default="", editable=False, max_length=200),
        ),
    ]
