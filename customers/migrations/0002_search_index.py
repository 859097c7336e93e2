"""Customer search that can use a trigram index under row-level security.

PostgreSQL only uses an index for a condition on a row-secured table when the
condition's operator is leakproof, and LIKE / pg_trgm's operators are not: on
customers_customer, a search could only filter the tenant's rows one by one.

So the folded search text is mirrored (by trigger) into
customers_search_private, which the runtime role cannot read at all. The only
way in is kundreg_customer_search(terms), a SECURITY DEFINER function owned by
the owner role that filters on the same transaction-local app.tenant_id the
row policies use: with no tenant set it returns nothing, with tenant A set it
returns only tenant A's customers. The table keeps a tenant policy too, so
granting it by mistake would still not leak.
"""

from django.db import migrations

FORWARD = r"""
CREATE TABLE customers_search_private (
    customer_id bigint PRIMARY KEY REFERENCES customers_customer (id) ON DELETE CASCADE,
    tenant_id bigint NOT NULL,
    search_text text NOT NULL
);
CREATE INDEX customers_search_private_trgm
    ON customers_search_private USING gin (search_text gin_trgm_ops);
CREATE INDEX customers_search_private_tenant ON customers_search_private (tenant_id);
ALTER TABLE customers_search_private ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers_search_private
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);

-- The owner is subject to the forced policy too; lift it for the backfill only.
ALTER TABLE customers_customer NO FORCE ROW LEVEL SECURITY;
INSERT INTO customers_search_private (customer_id, tenant_id, search_text)
    SELECT id, tenant_id, search_text FROM customers_customer;
ALTER TABLE customers_customer FORCE ROW LEVEL SECURITY;

CREATE FUNCTION customers_search_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO customers_search_private (customer_id, tenant_id, search_text)
        VALUES (NEW.id, NEW.tenant_id, NEW.search_text)
        ON CONFLICT (customer_id) DO UPDATE SET search_text = EXCLUDED.search_text;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_search_sync
    AFTER INSERT OR UPDATE OF search_text ON customers_customer
    FOR EACH ROW EXECUTE FUNCTION customers_search_sync();

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
        -- Literal patterns (not parameters) so the planner can use the trigram index.
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
"""

BACKWARD = """
DROP FUNCTION IF EXISTS kundreg_customer_search(text[]);
DROP TRIGGER IF EXISTS customers_search_sync ON customers_customer;
DROP FUNCTION IF EXISTS customers_search_sync();
DROP TABLE IF EXISTS customers_search_private;
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.RemoveIndex(model_name="customer", name="customer_search_trgm"),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
