from django.db import migrations, models

# A reminder carries a second token for the same request (tokens are stored only
# hashed, so the first one cannot be sent again). consent_token_private is closed to
# the runtime role; this function is its one way to add a token, and only for a
# request of the tenant active in this transaction (app.tenant_id). It answers
# whether a token was added: false for no tenant, another tenant's request, a
# malformed hash or a hash already in use.
ADD_FUNCTION_SQL = """
CREATE FUNCTION kundreg_consent_token_add(p_request_id bigint, p_hash text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    tenant bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
    n integer;
BEGIN
    IF tenant IS NULL OR p_hash IS NULL OR p_hash !~ '^[0-9a-f]{64}$' THEN
        RETURN false;
    END IF;
    INSERT INTO consent_token_private (token_hash, request_id, tenant_id)
        SELECT p_hash, r.id, r.tenant_id FROM consent_consentrequest r
         WHERE r.id = p_request_id AND r.tenant_id = tenant
        ON CONFLICT (token_hash) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n = 1;
END
$$;
"""

ADD_FUNCTION_BACK_SQL = "DROP FUNCTION IF EXISTS kundreg_consent_token_add(bigint, text);"

# The hourly lifecycle run (consent.lifecycle) looks for open requests by expiry and
# granted consents by validity; partial indexes keep those reads small.
INDEXES_SQL = """
CREATE INDEX consent_request_open_idx ON consent_consentrequest (tenant_id, expires_at)
    WHERE status IN ('queued', 'sent', 'delivered', 'failed');
CREATE INDEX consent_state_valid_idx ON consent_consentstate (tenant_id, valid_until)
    WHERE status = 'granted' AND valid_until IS NOT NULL;
"""

INDEXES_BACK_SQL = """
DROP INDEX IF EXISTS consent_request_open_idx;
DROP INDEX IF EXISTS consent_state_valid_idx;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0002_batches_reminders_validity"),
    ]

    operations = [
        # Only the label of "expired" changed ("Consent expired": a request that
        # expired or a consent that lapsed); Django keeps choices in the migration state.
        migrations.AlterField(
            model_name="consentstate",
            name="status",
            field=models.CharField(
                choices=[
                    ("none", "No consent"),
                    ("requested", "Consent requested"),
                    ("granted", "Consent approved"),
                    ("declined", "Consent declined"),
                    ("withdrawn", "Consent withdrawn"),
                    ("expired", "Consent expired"),
                ],
                default="none",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.RunSQL(ADD_FUNCTION_SQL, ADD_FUNCTION_BACK_SQL),
        migrations.RunSQL(INDEXES_SQL, INDEXES_BACK_SQL),
    ]
