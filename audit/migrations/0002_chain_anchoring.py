"""Anchor the audit chain (docs/adr/0006-audit-chain-anchoring.md).

- ``mac``: an HMAC over each event's hash with AUDIT_CHAIN_KEY, a key only the
  application holds; events written before this migration get theirs here.
- TRUNCATE refused: a statement trigger, so even the owner must drop it first (the
  runtime role has no TRUNCATE privilege at all).
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models

# The v1 formula, frozen here: audit/anchor.py event_mac() as of this migration.
EVENT_MAC_CONTEXT = b"kundreg-audit-event-v1:"

NO_TRUNCATE_SQL = """
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""
NO_TRUNCATE_REVERSE_SQL = "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;"


def backfill_macs(apps, schema_editor):
    key = settings.AUDIT_CHAIN_KEY.encode()
    with schema_editor.connection.cursor() as cursor:
        # The owner, inside this migration's transaction only: nobody else sees the
        # trigger lifted. Row security is forced on the owner too, so tenant by tenant.
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("SELECT id FROM tenancy_tenant ORDER BY id")
        for (tenant_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute("SELECT id, hash FROM audit_auditevent WHERE mac = ''")
            rows = cursor.fetchall()
            cursor.executemany(
                "UPDATE audit_auditevent SET mac = %s WHERE id = %s",
                [
                    (hmac.new(key, EVENT_MAC_CONTEXT + h.encode(), hashlib.sha256).hexdigest(), pk)
                    for pk, h in rows
                ],
            )
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.RunPython(backfill_macs, migrations.RunPython.noop, elidable=False),
        migrations.RunSQL(NO_TRUNCATE_SQL, NO_TRUNCATE_REVERSE_SQL),
    ]
