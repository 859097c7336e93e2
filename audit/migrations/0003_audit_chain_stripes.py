"""Striped audit chains (docs/adr/0006-audit-chain-anchoring.md, "Striped chains").

Every existing event joins chain 0 through the column's database default: no row is
updated (the append-only trigger never fires), and chain 0 hashes exactly as the single
chain did, so the existing log verifies unchanged. Sequence numbers become unique per
(tenant, chain); lists order by time, then row id.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_chain_anchoring"),
        ("tenancy", "0004_tenant_branding_pick_scope"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.PositiveSmallIntegerField(db_default=0, default=0, verbose_name="chain"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("tenant", "chain", "seq"), name="audit_event_chain_seq_uniq"
            ),
        ),
        migrations.RemoveConstraint(model_name="auditevent", name="audit_event_seq_uniq"),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["tenant", "created_at", "id"], name="audit_event_time_idx"),
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "audit event",
                "verbose_name_plural": "audit events",
            },
        ),
    ]
