"""Bound the search: at most N matches, filtered by status inside the function.

A broad term ("and") matches a large part of a big tenant. kundreg_customer_search()
now takes the wanted status and a maximum and returns at most that many matches,
straight off the trigram index (no ORDER BY: walking a name index and filtering is a
trap when the term is a name prefix, because the matches then cluster in name order).
The caller sorts the bounded set and says when it was cut.
"""

from django.db import migrations

FORWARD = r"""
ALTER TABLE customers_search_private ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE customers_customer NO FORCE ROW LEVEL SECURITY;
UPDATE customers_search_private s SET status = c.status
    FROM customers_customer c WHERE c.id = s.customer_id;
ALTER TABLE customers_customer FORCE ROW LEVEL SECURITY;
-- Tenant first and then LIKE would filter the tenant's rows one by one; the trigram
-- index (with the tenant as a filter) is the only path worth having.
DROP INDEX customers_search_private_tenant;

CREATE OR REPLACE FUNCTION customers_search_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO customers_search_private (customer_id, tenant_id, search_text, status)
        VALUES (NEW.id, NEW.tenant_id, NEW.search_text, NEW.status)
        ON CONFLICT (customer_id) DO UPDATE SET
            search_text = EXCLUDED.search_text, status = EXCLUDED.status;
    RETURN NULL;
END
$$;
DROP TRIGGER customers_search_sync ON customers_customer;
CREATE TRIGGER customers_search_sync
    AFTER INSERT OR UPDATE OF search_text, status ON customers_customer
    FOR EACH ROW EXECUTE FUNCTION customers_search_sync();

DROP FUNCTION kundreg_customer_search(text[]);
CREATE FUNCTION kundreg_customer_search(
    terms text[], wanted_status text DEFAULT NULL, max_rows integer DEFAULT NULL
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 1000
SET search_path = public, pg_temp AS $$
DECLARE
    tenant bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
    conditions text := '';
    term text;
BEGIN
    IF tenant IS NULL OR terms IS NULL OR cardinality(terms) = 0 THEN
        RETURN;
    END IF;
    FOREACH term IN ARRAY terms LOOP
        -- Literal patterns (not parameters) so the planner can weigh the trigram index.
        conditions := conditions || format(
            ' AND search_text LIKE %L',
            '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%'
        );
    END LOOP;
    IF wanted_status IS NOT NULL THEN
        conditions := conditions || format(' AND status = %L', wanted_status);
    END IF;
    RETURN QUERY EXECUTE
        'SELECT customer_id FROM customers_search_private WHERE tenant_id = $1' || conditions
        || ' LIMIT $2'
        USING tenant, max_rows;
END
$$;
"""

BACKWARD = r"""
DROP FUNCTION kundreg_customer_search(text[], text, integer);
CREATE FUNCTION kundreg_customer_search(terms text[]) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    tenant bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
    conditions text := '';
    term text;
BEGIN
    IF tenant IS NULL OR terms IS NULL OR cardinality(terms) = 0 THEN
        RETURN;
    END IF;
    FOREACH term IN ARRAY terms LOOP
        conditions := conditions || format(
            ' AND search_text LIKE %L',
            '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%'
        );
    END LOOP;
    RETURN QUERY EXECUTE
        'SELECT customer_id FROM customers_search_private WHERE tenant_id = $1' || conditions
        USING tenant;
END
$$;
CREATE INDEX customers_search_private_tenant ON customers_search_private (tenant_id);
ALTER TABLE customers_search_private DROP COLUMN status;
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_index")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
