"""What eligibility needs, kept on the customer row by the database (issue 9, the benchmark).

The Anonymization page counts and pages through every customer of a tenant; computing each
customer's documents, balance, hold and eligible date with subqueries took seconds at a
million customers. These columns of ``customers_customer`` hold them instead, maintained by
triggers, so every way of writing (the posting service, the CSV import, the legal-hold
services, a test's ``objects.create``, a settings change) keeps them right:

- ``elig_open_documents``: open orders, deliveries, invoices and cases;
- ``elig_balance``: the sum of the open balances of the open documents other than quotes;
- ``elig_quotes``, ``elig_other_documents``: documents by kind (a prospect has only quotes);
- ``elig_on_hold``: an active legal hold;
- ``elig_retention_period``: the customer's period in years (its override, else the
  prospects' or the customers' period of the tenant's policy or preset);
- ``elig_eligible_on``: the day after the retention period ends (``anonymization.eligibility``
  explains the rule), from the tenant's fiscal-year end and time zone and that period;
  both recomputed for the whole tenant when its settings, policy or country change;
- ``elig_prospect`` and ``elig_blocked``: generated from the above.

They are not fields of ``customers.Customer``: Django never writes them (a ``save()`` of a
customer read earlier cannot put back stale values); ``anonymization.eligibility`` reads
them. The migration fills them for every tenant. Bulk loads that turn the triggers off call
``anonymization_eligibility_rebuild(tenant_id)`` afterwards.
"""

from django.db import migrations

# anonymization.models.PRESETS (customer years by country; the fallback is Sweden's) and
# DEFAULT_PROSPECT_YEARS; tests/anonymization/test_eligibility_state.py checks they agree.
PRESET_YEARS = "CASE upper(coalesce(country, '')) WHEN 'DK' THEN 5 WHEN 'SE' THEN 7 " + (
    "WHEN 'NO' THEN 5 WHEN 'FI' THEN 6 ELSE 7 END"
)
PROSPECT_DEFAULT = 2

# Contributions of one document row ``d`` to its customer's columns.
OPEN_BLOCKING = (
    "CASE WHEN d.status = 'open' AND d.kind IN ('order', 'delivery', 'invoice', 'case') "
    "THEN 1 ELSE 0 END"
)
OPEN_BALANCE = "CASE WHEN d.status = 'open' AND d.kind <> 'quote' THEN d.balance ELSE 0 END"
QUOTE = "CASE WHEN d.kind = 'quote' THEN 1 ELSE 0 END"
OTHER = "CASE WHEN d.kind <> 'quote' THEN 1 ELSE 0 END"


def _contributions(table: str, sign: str) -> str:
    columns = (
        f"d.customer_id, {sign}({OPEN_BLOCKING}) AS open_documents, "
        f"{sign}({OPEN_BALANCE}) AS balance, {sign}({QUOTE}) AS quotes, "
        f"{sign}({OTHER}) AS others"
    )
    return f"SELECT {columns} FROM {table} d"  # noqa: S608 - constants


def _apply(rows: str) -> str:
    """UPDATE the customers by the summed contributions ``rows``, only where they change."""
    return f"""
    UPDATE customers_customer c SET
        elig_open_documents = c.elig_open_documents + s.open_documents,
        elig_balance = c.elig_balance + s.balance,
        elig_quotes = c.elig_quotes + s.quotes,
        elig_other_documents = c.elig_other_documents + s.others
    FROM (
        SELECT customer_id, sum(open_documents) AS open_documents, sum(balance) AS balance,
               sum(quotes) AS quotes, sum(others) AS others
        FROM ({rows}) r GROUP BY customer_id
    ) s
    WHERE c.id = s.customer_id
      AND (s.open_documents <> 0 OR s.balance <> 0 OR s.quotes <> 0 OR s.others <> 0);
    """  # noqa: S608 - constants


FORWARD = f"""
ALTER TABLE customers_customer
    ADD COLUMN elig_open_documents integer NOT NULL DEFAULT 0,
    ADD COLUMN elig_balance numeric(16, 2) NOT NULL DEFAULT 0,
    ADD COLUMN elig_quotes integer NOT NULL DEFAULT 0,
    ADD COLUMN elig_other_documents integer NOT NULL DEFAULT 0,
    ADD COLUMN elig_on_hold boolean NOT NULL DEFAULT false,
    ADD COLUMN elig_retention_period smallint,
    ADD COLUMN elig_eligible_on date,
    ADD COLUMN elig_prospect boolean
        GENERATED ALWAYS AS (elig_quotes > 0 AND elig_other_documents = 0) STORED,
    ADD COLUMN elig_blocked boolean
        GENERATED ALWAYS AS (elig_open_documents > 0 OR elig_balance <> 0 OR elig_on_hold) STORED;

-- The tenant's retention settings: time zone, fiscal-year end, periods (its policy row, else
-- its country's preset). Row security: called with app.tenant_id set to the tenant.
CREATE FUNCTION anonymization_retention_settings(
    t bigint, OUT tz text, OUT fy_month integer, OUT fy_day integer,
    OUT customer_years integer, OUT prospect_years integer
) LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
    tenant_country text;
BEGIN
    SELECT time_zone, fiscal_year_end_month, fiscal_year_end_day, country
        INTO tz, fy_month, fy_day, tenant_country
        FROM tenancy_tenant WHERE id = t;
    SELECT p.customer_years, p.prospect_years INTO customer_years, prospect_years
        FROM anonymization_retentionpolicy p WHERE p.tenant_id = t;
    IF NOT FOUND THEN
        customer_years := (SELECT {PRESET_YEARS} FROM (SELECT tenant_country AS country) x);
        prospect_years := least({PROSPECT_DEFAULT}, customer_years);
    END IF;
END
$$;

-- The day after the period ends: the end of the fiscal year (ending month/day) in which
-- ``since`` fell, in the local time of ``tz``, plus ``years``, plus a day. The same
-- arithmetic as anonymization.eligibility's expressions.
CREATE FUNCTION anonymization_eligible_on(
    since timestamptz, tz text, fy_month integer, fy_day integer, years integer
) RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT make_date(
        (EXTRACT(YEAR FROM since AT TIME ZONE tz)
         + CASE WHEN EXTRACT(MONTH FROM since AT TIME ZONE tz) * 100
                     + EXTRACT(DAY FROM since AT TIME ZONE tz) > fy_month * 100 + fy_day
                THEN 1 ELSE 0 END
         + years)::integer,
        fy_month, fy_day) + 1
$$;

-- A customer's own date, when it is written (its activity, creation, override or kinds of
-- documents change).
CREATE FUNCTION anonymization_customer_eligible_on() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM anonymization_retention_settings(NEW.tenant_id);
    NEW.elig_retention_period := coalesce(
        NEW.retention_years,
        CASE WHEN NEW.elig_quotes > 0 AND NEW.elig_other_documents = 0
             THEN s.prospect_years ELSE s.customer_years END);
    NEW.elig_eligible_on := anonymization_eligible_on(
        coalesce(NEW.last_activity_at, NEW.created_at), s.tz, s.fy_month, s.fy_day,
        NEW.elig_retention_period);
    RETURN NEW;
END
$$;
CREATE TRIGGER anonymization_eligible_on_insert
    BEFORE INSERT ON customers_customer
    FOR EACH ROW EXECUTE FUNCTION anonymization_customer_eligible_on();
CREATE TRIGGER anonymization_eligible_on_update
    BEFORE UPDATE OF last_activity_at, created_at, retention_years, elig_quotes,
        elig_other_documents, tenant_id ON customers_customer
    FOR EACH ROW
    WHEN (OLD.last_activity_at IS DISTINCT FROM NEW.last_activity_at
          OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.retention_years IS DISTINCT FROM NEW.retention_years
          OR (OLD.elig_quotes > 0 AND OLD.elig_other_documents = 0)
             IS DISTINCT FROM (NEW.elig_quotes > 0 AND NEW.elig_other_documents = 0)
          OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
    EXECUTE FUNCTION anonymization_customer_eligible_on();

-- Every customer's date of one tenant, after its settings or policy changed. Runs with the
-- tenant's app.tenant_id, whoever changes them (row security), and puts the caller's back.
CREATE FUNCTION anonymization_eligible_on_refresh(t bigint) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    s record;
    caller text := current_setting('app.tenant_id', true);
BEGIN
    PERFORM set_config('app.tenant_id', t::text, true);
    SELECT * INTO s FROM anonymization_retention_settings(t);
    UPDATE customers_customer c
    SET elig_retention_period = e.years,
        elig_eligible_on = anonymization_eligible_on(
            coalesce(c.last_activity_at, c.created_at), s.tz, s.fy_month, s.fy_day, e.years)
    FROM (
        SELECT id, coalesce(
            retention_years,
            CASE WHEN elig_prospect THEN s.prospect_years ELSE s.customer_years END
        ) AS years
        FROM customers_customer WHERE tenant_id = t
    ) e
    WHERE c.id = e.id AND c.tenant_id = t
      AND (c.elig_retention_period, c.elig_eligible_on) IS DISTINCT FROM (
          e.years, anonymization_eligible_on(
              coalesce(c.last_activity_at, c.created_at), s.tz, s.fy_month, s.fy_day, e.years));
    PERFORM set_config('app.tenant_id', coalesce(caller, ''), true);
END
$$;

CREATE FUNCTION anonymization_policy_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM anonymization_eligible_on_refresh(
        CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END);
    RETURN NULL;
END
$$;
CREATE TRIGGER anonymization_policy_changed
    AFTER INSERT OR DELETE OR UPDATE OF customer_years, prospect_years, tenant_id
    ON anonymization_retentionpolicy
    FOR EACH ROW EXECUTE FUNCTION anonymization_policy_changed();

CREATE FUNCTION anonymization_tenant_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM anonymization_eligible_on_refresh(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER anonymization_tenant_changed
    AFTER UPDATE OF fiscal_year_end_month, fiscal_year_end_day, time_zone, country
    ON tenancy_tenant
    FOR EACH ROW
    WHEN (OLD.fiscal_year_end_month IS DISTINCT FROM NEW.fiscal_year_end_month
          OR OLD.fiscal_year_end_day IS DISTINCT FROM NEW.fiscal_year_end_day
          OR OLD.time_zone IS DISTINCT FROM NEW.time_zone
          OR OLD.country IS DISTINCT FROM NEW.country)
    EXECUTE FUNCTION anonymization_tenant_changed();

-- Documents: each statement's rows, summed per customer (set-based: an import of many
-- rows updates each customer once).
CREATE FUNCTION anonymization_documents_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply(_contributions("new_rows", "+"))}
    ELSIF TG_OP = 'DELETE' THEN
        {_apply(_contributions("old_rows", "-"))}
    ELSE
        {_apply(_contributions("new_rows", "+") + " UNION ALL " + _contributions("old_rows", "-"))}
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER anonymization_documents_inserted
    AFTER INSERT ON sales_salesdocument REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION anonymization_documents_changed();
CREATE TRIGGER anonymization_documents_updated
    AFTER UPDATE ON sales_salesdocument REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION anonymization_documents_changed();
CREATE TRIGGER anonymization_documents_deleted
    AFTER DELETE ON sales_salesdocument REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION anonymization_documents_changed();

-- Legal holds: whether the customer has an active one.
CREATE FUNCTION anonymization_holds_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE customers_customer c SET elig_on_hold = h.held
    FROM (
        SELECT x.id, EXISTS (
            SELECT 1 FROM anonymization_legalhold l
            WHERE l.customer_id = x.id AND l.lifted_at IS NULL
        ) AS held
        FROM customers_customer x
        WHERE x.id IN (SELECT customer_id FROM new_rows UNION SELECT customer_id FROM old_rows)
    ) h
    WHERE c.id = h.id AND c.elig_on_hold IS DISTINCT FROM h.held;
    RETURN NULL;
END
$$;
CREATE FUNCTION anonymization_holds_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE customers_customer c SET elig_on_hold = true
    WHERE c.id IN (SELECT customer_id FROM new_rows WHERE lifted_at IS NULL)
      AND NOT c.elig_on_hold;
    RETURN NULL;
END
$$;
CREATE TRIGGER anonymization_holds_inserted
    AFTER INSERT ON anonymization_legalhold REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION anonymization_holds_inserted();
CREATE TRIGGER anonymization_holds_updated
    AFTER UPDATE ON anonymization_legalhold REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION anonymization_holds_changed();
CREATE FUNCTION anonymization_holds_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE customers_customer c SET elig_on_hold = EXISTS (
        SELECT 1 FROM anonymization_legalhold l WHERE l.customer_id = c.id AND l.lifted_at IS NULL)
    WHERE c.id IN (SELECT customer_id FROM old_rows) AND c.elig_on_hold;
    RETURN NULL;
END
$$;
CREATE TRIGGER anonymization_holds_deleted
    AFTER DELETE ON anonymization_legalhold REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION anonymization_holds_deleted();

-- Everything of one tenant from scratch: the migration, and bulk loads with triggers off.
CREATE FUNCTION anonymization_eligibility_rebuild(t bigint) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    caller text := current_setting('app.tenant_id', true);
BEGIN
    PERFORM set_config('app.tenant_id', t::text, true);
    UPDATE customers_customer c SET
        elig_open_documents = coalesce(s.open_documents, 0),
        elig_balance = coalesce(s.balance, 0),
        elig_quotes = coalesce(s.quotes, 0),
        elig_other_documents = coalesce(s.others, 0),
        elig_on_hold = h.customer_id IS NOT NULL
    FROM customers_customer x
    LEFT JOIN (
        SELECT customer_id, sum(open_documents) AS open_documents, sum(balance) AS balance,
               sum(quotes) AS quotes, sum(others) AS others
        FROM ({_contributions("sales_salesdocument", "+")} WHERE d.tenant_id = t) r
        GROUP BY customer_id
    ) s ON s.customer_id = x.id
    LEFT JOIN (
        SELECT DISTINCT customer_id FROM anonymization_legalhold
        WHERE tenant_id = t AND lifted_at IS NULL
    ) h ON h.customer_id = x.id
    WHERE c.id = x.id AND x.tenant_id = t AND c.tenant_id = t
      AND (c.elig_open_documents, c.elig_balance, c.elig_quotes, c.elig_other_documents,
           c.elig_on_hold)
          IS DISTINCT FROM (coalesce(s.open_documents, 0), coalesce(s.balance, 0),
                            coalesce(s.quotes, 0), coalesce(s.others, 0),
                            h.customer_id IS NOT NULL);
    PERFORM anonymization_eligible_on_refresh(t);
    PERFORM set_config('app.tenant_id', coalesce(caller, ''), true);
END
$$;

SELECT anonymization_eligibility_rebuild(id) FROM tenancy_tenant;
-- The rebuild's updates queue the deferred foreign-key checks; run them now, or the indexes
-- below cannot be built ("pending trigger events").
SET CONSTRAINTS ALL IMMEDIATE;

-- The page's lists: the unblocked by kind and date (eligible, waiting, forecast), the
-- blocked by name. The counts read the narrow one: an eligible date is always the day after
-- a fiscal-year end, so few keys, deduplicated (about 7 bytes a customer).
CREATE INDEX customers_elig_dates_idx ON customers_customer
    (tenant_id, elig_prospect, elig_eligible_on)
    WHERE NOT elig_blocked AND status <> 'anonymized';
CREATE INDEX customers_elig_unblocked_idx ON customers_customer
    (tenant_id, elig_prospect, elig_eligible_on, sort_name, id)
    WHERE NOT elig_blocked AND status <> 'anonymized';
CREATE INDEX customers_elig_blocked_idx ON customers_customer
    (tenant_id, sort_name, id) INCLUDE (elig_prospect)
    WHERE elig_blocked AND status <> 'anonymized';
ANALYZE customers_customer;
"""  # noqa: S608 - constants

BACKWARD = """
DROP TRIGGER anonymization_holds_deleted ON anonymization_legalhold;
DROP TRIGGER anonymization_holds_updated ON anonymization_legalhold;
DROP TRIGGER anonymization_holds_inserted ON anonymization_legalhold;
DROP TRIGGER anonymization_documents_deleted ON sales_salesdocument;
DROP TRIGGER anonymization_documents_updated ON sales_salesdocument;
DROP TRIGGER anonymization_documents_inserted ON sales_salesdocument;
DROP TRIGGER anonymization_tenant_changed ON tenancy_tenant;
DROP TRIGGER anonymization_policy_changed ON anonymization_retentionpolicy;
DROP TRIGGER anonymization_eligible_on_update ON customers_customer;
DROP TRIGGER anonymization_eligible_on_insert ON customers_customer;
DROP FUNCTION anonymization_eligibility_rebuild(bigint);
DROP FUNCTION anonymization_holds_deleted();
DROP FUNCTION anonymization_holds_inserted();
DROP FUNCTION anonymization_holds_changed();
DROP FUNCTION anonymization_documents_changed();
DROP FUNCTION anonymization_tenant_changed();
DROP FUNCTION anonymization_policy_changed();
DROP FUNCTION anonymization_eligible_on_refresh(bigint);
DROP FUNCTION anonymization_customer_eligible_on();
DROP FUNCTION anonymization_eligible_on(timestamptz, text, integer, integer, integer);
DROP FUNCTION anonymization_retention_settings(bigint);
ALTER TABLE customers_customer
    DROP COLUMN elig_blocked,
    DROP COLUMN elig_prospect,
    DROP COLUMN elig_eligible_on,
    DROP COLUMN elig_retention_period,
    DROP COLUMN elig_on_hold,
    DROP COLUMN elig_other_documents,
    DROP COLUMN elig_quotes,
    DROP COLUMN elig_balance,
    DROP COLUMN elig_open_documents;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("anonymization", "0001_initial"),
        ("customers", "0008_tenant_fk"),
        ("sales", "0001_initial"),
        ("tenancy", "0002_tenant_fk"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
