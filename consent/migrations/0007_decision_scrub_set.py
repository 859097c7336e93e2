"""Erasure scrubs a chunk of customers' decisions in one statement (issue 10).

consent_decision_scrub(bigint) blanked one customer's decisions; the erasure engine now
passes the decisions' ids of a whole chunk. Same rule as before: only in the active
tenant, only the four personal fields, and only through this function (the trigger
refuses every other change).
"""

from django.db import migrations

FORWARD_SQL = """
DROP FUNCTION IF EXISTS consent_decision_scrub(bigint);
CREATE FUNCTION consent_decision_scrub(p_ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    tenant bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
    n integer;
BEGIN
    IF tenant IS NULL OR p_ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM set_config('consent.scrubbing', 'on', true);
    UPDATE consent_consentdecision
       SET ip = NULL, user_agent = '', context = '{}'::jsonb, note = ''
     WHERE tenant_id = tenant AND id = ANY(p_ids)
       AND (ip IS NOT NULL OR user_agent <> '' OR context <> '{}'::jsonb OR note <> '');
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('consent.scrubbing', '', true);
    RETURN n;
END
$$;
"""

REVERSE_SQL = """
DROP FUNCTION IF EXISTS consent_decision_scrub(bigint[]);
CREATE FUNCTION consent_decision_scrub(p_customer bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    tenant bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
    n integer;
BEGIN
    IF tenant IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM set_config('consent.scrubbing', 'on', true);
    UPDATE consent_consentdecision
       SET ip = NULL, user_agent = '', context = '{}'::jsonb, note = ''
     WHERE tenant_id = tenant AND customer_id = p_customer;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('consent.scrubbing', '', true);
    RETURN n;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0006_batch_worked_at"),
    ]

    operations = [migrations.RunSQL(FORWARD_SQL, REVERSE_SQL)]
