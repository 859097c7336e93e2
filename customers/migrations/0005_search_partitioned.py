"""The private search copy, partitioned by tenant: a search reads only its tenant's index.

Profiling the search benchmark (ADR 0004, revision 2026-11-23) showed that almost all
of a slow search's time goes into the trigram GIN index's bitmap: the posting lists of
common trigrams ("sen", "son", "and") held every tenant's customers, so a search in one
tenant paid for all of them, and the bill grew with the number of tenants rather than
with the tenant searched. A composite btree_gin index (tenant_id, search_text) did not
help (the planner leaves the tenant key out, or uses it and intersects with a list of a
million entries).

customers_search_private is now hash-partitioned on tenant_id into 32 partitions
(``customers_search_pNN_private``, each revoked from the runtime role by
tenancy.db_setup like every ``*_private`` table, each with the tenant policy), each with
its own trigram index. kundreg_customer_search() names the tenant as a constant, so the
planner prunes to one partition and plans with that partition's statistics. For several
terms it forces the bitmap path: a LIMIT lets the planner hope for a scan that stops
early, which turns into a scan of the whole tenant when the terms are rarer together
than their product suggests. The index is built with fastupdate off so that a search
never walks a pending list left by recent writes.

The copy keeps only what a search needs (customer, tenant, status, folded text); the
trigger mirrors it on INSERT and on UPDATE of search_text or status, and the foreign key
removes it with the customer.
"""

from django.db import migrations

FORWARD = r"""
CREATE TABLE customers_search_private_new (
    customer_id bigint NOT NULL REFERENCES customers_customer (id) ON DELETE CASCADE,
    tenant_id bigint NOT NULL,
    status text NOT NULL DEFAULT 'active',
    search_text text NOT NULL,
    -- The customer first: the foreign key's ON DELETE CASCADE finds the row by it in
    -- each partition (the key must hold the partition column too).
    PRIMARY KEY (customer_id, tenant_id)
) PARTITION BY HASH (tenant_id);
DO $$
BEGIN
    FOR i IN 0..31 LOOP  -- 32 partitions
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF customers_search_private_new '
            'FOR VALUES WITH (MODULUS 32, REMAINDER %s)',
            'customers_search_p' || lpad(i::text, 2, '0') || '_private', i);
        -- Read through the parent, the parent's policy applies; read directly (only the
        -- owner can), each partition's own.
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY',
            'customers_search_p' || lpad(i::text, 2, '0') || '_private');
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING '
            '(tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::bigint)',
            'customers_search_p' || lpad(i::text, 2, '0') || '_private');
    END LOOP;
END
$$;
INSERT INTO customers_search_private_new (customer_id, tenant_id, status, search_text)
    SELECT customer_id, tenant_id, status, search_text FROM customers_search_private;
DROP TABLE customers_search_private;
ALTER TABLE customers_search_private_new RENAME TO customers_search_private;
ALTER TABLE customers_search_private RENAME CONSTRAINT customers_search_private_new_pkey
    TO customers_search_private_pkey;
ALTER TABLE customers_search_private
    RENAME CONSTRAINT customers_search_private_new_customer_id_fkey
    TO customers_search_private_customer_id_fkey;
ALTER TABLE customers_search_private ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers_search_private
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
CREATE INDEX customers_search_private_trgm ON customers_search_private
    USING gin (search_text gin_trgm_ops) WITH (fastupdate = off);
-- LIKE '%term%' is estimated from the column's histogram: 1000 entries resolve 0.1 %.
ALTER TABLE customers_search_private ALTER COLUMN search_text SET STATISTICS 1000;
ANALYZE customers_search_private;

CREATE OR REPLACE FUNCTION customers_search_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO customers_search_private (customer_id, tenant_id, search_text, status)
        VALUES (NEW.id, NEW.tenant_id, NEW.search_text, NEW.status)
        ON CONFLICT (customer_id, tenant_id) DO UPDATE SET
            search_text = EXCLUDED.search_text, status = EXCLUDED.status;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION kundreg_customer_search(
    terms text[], wanted_status text DEFAULT NULL, max_rows integer DEFAULT NULL
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 500
SET search_path = public, pg_temp AS $$
DECLARE
    tenant bigint := NULLIF(current_setting('app.tenant_id', true), '')::bigint;
    conditions text := '';
    term text;
    indexed boolean := false;
    seqscan text := current_setting('enable_seqscan');
    indexscan text := current_setting('enable_indexscan');
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
        indexed := indexed OR length(term) >= 3;
    END LOOP;
    IF wanted_status LIKE '!%' THEN  -- "!active": every status but that one
        conditions := conditions || format(' AND status <> %L', substr(wanted_status, 2));
    ELSIF wanted_status IS NOT NULL THEN
        conditions := conditions || format(' AND status = %L', wanted_status);
    END IF;
    IF indexed AND cardinality(terms) > 1 THEN
        -- Several terms: the planner multiplies their selectivities as if independent
        -- and may bet on a scan that stops at the LIMIT, which for "Nilsson Åberg" (no
        -- match) reads the whole tenant; the trigram bitmap's cost is bounded. One term:
        -- its estimate (statistics target 1000) is good enough to let a common term stop
        -- after a few thousand rows instead of building a bitmap of all its matches.
        PERFORM set_config('enable_seqscan', 'off', true);
        PERFORM set_config('enable_indexscan', 'off', true);
    END IF;
    -- The tenant as a constant: the plan reads that tenant's partition only.
    RETURN QUERY EXECUTE format(
        'SELECT customer_id FROM customers_search_private WHERE tenant_id = %s', tenant
    ) || conditions || ' LIMIT $1' USING max_rows;
    PERFORM set_config('enable_seqscan', seqscan, true);
    PERFORM set_config('enable_indexscan', indexscan, true);
END
$$;
"""

BACKWARD = r"""
CREATE TABLE customers_search_private_old (
    customer_id bigint PRIMARY KEY REFERENCES customers_customer (id) ON DELETE CASCADE,
    tenant_id bigint NOT NULL,
    search_text text NOT NULL,
    status text NOT NULL DEFAULT 'active'
);
INSERT INTO customers_search_private_old (customer_id, tenant_id, search_text, status)
    SELECT customer_id, tenant_id, search_text, status FROM customers_search_private;
DROP TABLE customers_search_private;
ALTER TABLE customers_search_private_old RENAME TO customers_search_private;
ALTER TABLE customers_search_private RENAME CONSTRAINT customers_search_private_old_pkey
    TO customers_search_private_pkey;
CREATE INDEX customers_search_private_trgm
    ON customers_search_private USING gin (search_text gin_trgm_ops);
ALTER TABLE customers_search_private ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers_search_private
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);

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

CREATE OR REPLACE FUNCTION kundreg_customer_search(
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


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_sort_name")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
