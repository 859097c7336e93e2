"""Erasure blanks the payload of an erased person's message events (issue 10).

Events are append-only for the runtime role (tenancy.db_setup grants INSERT only). The
payload keeps an allow-list of provider keys, but a provider's reject reason may quote
the address ("550 <x@y> unknown"): this function, and nothing else, empties the payloads
of the given events of the active tenant.
"""

from django.db import migrations

FORWARD_SQL = """
CREATE FUNCTION notifications_event_scrub(p_ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    tenant bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
    n integer;
BEGIN
    IF tenant IS NULL OR p_ids IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE notifications_messageevent SET payload = '{}'::jsonb
     WHERE tenant_id = tenant AND id = ANY(p_ids) AND payload <> '{}'::jsonb;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
"""

REVERSE_SQL = "DROP FUNCTION IF EXISTS notifications_event_scrub(bigint[]);"


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_sms_subscription"),
    ]

    operations = [migrations.RunSQL(FORWARD_SQL, REVERSE_SQL)]
