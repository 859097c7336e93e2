# Issue 10 item 6: optional automatic anonymization of eligible prospects (off by default).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("anonymization", "0003_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="retentionpolicy",
            name="auto_anonymize_prospects",
            field=models.BooleanField(
                default=False, verbose_name="anonymize eligible prospects automatically"
            ),
        ),
    ]
