#!/bin/sh
# Kundreg's database and its two roles (docs/adr/0002-two-database-roles.md):
#   owner role    owns the database and its tables, runs migrations (MIGRATION_DATABASE_URL);
#   runtime role  what the application connects as (DATABASE_URL): not superuser, not owner,
#                 no BYPASSRLS, so row-level security applies to every query it makes.
# `manage.py migrate` (as the owner) grants the runtime role its table privileges afterwards.
#
#   backup role   when KUNDREG_BACKUP_PASSWORD is set: what deploy/backup.sh dumps as. Reads
#                 every table (pg_read_all_data) past row security (BYPASSRLS, which a dump
#                 needs: forced row security applies to the owner too), writes nothing
#                 (read-only transactions, no other privilege); may only connect otherwise.
#
# Names (defaults): KUNDREG_DB_NAME (kundreg), KUNDREG_OWNER_ROLE (kundreg_owner),
# KUNDREG_APP_ROLE (kundreg_app), KUNDREG_BACKUP_ROLE (kundreg_backup); passwords:
# KUNDREG_OWNER_PASSWORD, KUNDREG_APP_PASSWORD, KUNDREG_BACKUP_PASSWORD (optional).
# Roles are cluster-wide: on a server shared with other databases give each installation
# names of its own, and use the same names in DATABASE_URL and MIGRATION_DATABASE_URL.
#
# Safe to run again: missing roles and the database are created, existing ones are brought to
# the state above (login, the passwords given here, so a re-run rotates them; database owner;
# PUBLIC may not connect). A role that already exists with SUPERUSER or BYPASSRLS loses it;
# only a superuser may do that, so under any other admin the script stops with an error.
#
# Where it runs:
# - the postgres image, once, on an empty data directory (docker-compose.yml mounts it into
#   /docker-entrypoint-initdb.d): as POSTGRES_USER, over the local socket;
# - by hand against a managed or shared PostgreSQL, as an admin that may create roles and
#   databases; it need not be superuser (RDS's master user, Azure's or Cloud SQL's admin). It
#   connects with libpq's variables:
#     PGHOST=db.example.com PGUSER=admin PGPASSWORD=... KUNDREG_DB_NAME=kundreg_prod \
#     KUNDREG_OWNER_ROLE=kundreg_prod_owner KUNDREG_APP_ROLE=kundreg_prod_app \
#     KUNDREG_OWNER_PASSWORD=... KUNDREG_APP_PASSWORD=... sh deploy/postgres-init.sh
#   Such an admin is made a member of the owner role, as PostgreSQL requires of whoever gives
#   a database to a role.
#   The backup role needs more than such an admin usually may: BYPASSRLS can be given by a
#   superuser (PostgreSQL 16+: also by an admin that has BYPASSRLS itself), pg_read_all_data
#   by a superuser or an admin holding it WITH ADMIN OPTION. Leave KUNDREG_BACKUP_PASSWORD
#   unset there and use the provider's own backups (docs/operations.md, "Backups").
set -eu
: "${KUNDREG_OWNER_PASSWORD:?set KUNDREG_OWNER_PASSWORD}"
: "${KUNDREG_APP_PASSWORD:?set KUNDREG_APP_PASSWORD}"

# In the postgres image: its superuser and database. Elsewhere: PGUSER, PGDATABASE or postgres.
if [ -n "${POSTGRES_USER:-}" ]; then
    PGUSER="${PGUSER:-$POSTGRES_USER}"
    export PGUSER
fi
PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-postgres}}"
export PGDATABASE

psql -X -q -v ON_ERROR_STOP=1 \
    -v db="${KUNDREG_DB_NAME:-kundreg}" \
    -v owner="${KUNDREG_OWNER_ROLE:-kundreg_owner}" \
    -v app="${KUNDREG_APP_ROLE:-kundreg_app}" \
    -v owner_password="$KUNDREG_OWNER_PASSWORD" \
    -v app_password="$KUNDREG_APP_PASSWORD" \
    -v backup="${KUNDREG_BACKUP_ROLE:-kundreg_backup}" \
    -v backup_password="${KUNDREG_BACKUP_PASSWORD:-}" <<'SQL'
SET client_min_messages = warning;

-- A role that exists and could bypass row security: only a superuser may take that away.
-- Under another admin, stop before changing anything, and say so.
SELECT format(
           'DO $stop$ BEGIN RAISE EXCEPTION %L; END $stop$',
           format('role %s has SUPERUSER or BYPASSRLS, which only a superuser can take away: '
                  'run this script as one, or choose other role names', rolname)
       )
  FROM pg_roles
 WHERE rolname IN (:'owner', :'app') AND (rolsuper OR rolbypassrls)
   AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
\gexec

-- The roles, when missing. Neither may bypass row security; neither creates roles or databases.
SELECT format('CREATE ROLE %I NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION', r)
  FROM (VALUES (:'owner'), (:'app')) AS wanted (r)
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r)
\gexec

-- Roles that existed: take away what would bypass row security, then login and the passwords
-- given here.
SELECT format(
           'ALTER ROLE %I%s%s', rolname,
           CASE WHEN rolsuper THEN ' NOSUPERUSER' ELSE '' END,
           CASE WHEN rolbypassrls THEN ' NOBYPASSRLS' ELSE '' END
       )
  FROM pg_roles
 WHERE rolname IN (:'owner', :'app') AND (rolsuper OR rolbypassrls)
\gexec
ALTER ROLE :"owner" WITH LOGIN PASSWORD :'owner_password';
ALTER ROLE :"app" WITH LOGIN PASSWORD :'app_password';

-- Giving a database to a role needs the right to act as it: an admin that is not superuser
-- (managed PostgreSQL) becomes a member of the owner role.
SELECT format('GRANT %I TO CURRENT_USER', :'owner')
 WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
\gexec

-- The database, owned by the owner role (also when it existed, e.g. made by a cloud console).
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'owner', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', datname, :'owner')
  FROM pg_database
 WHERE datname = :'db' AND datdba <> (SELECT oid FROM pg_roles WHERE rolname = :'owner')
\gexec

-- Only the two roles (and superusers) connect; the runtime role gets no more than that here.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";

-- The backup role, when KUNDREG_BACKUP_PASSWORD is given: login, BYPASSRLS, and reading is all
-- it may do (pg_read_all_data; every transaction read-only). Not a member of the owner or the
-- runtime role, never superuser.
SELECT :'backup_password' <> '' AS with_backup \gset
\if :with_backup
SELECT format('DO $stop$ BEGIN RAISE EXCEPTION %L; END $stop$',
              format('the backup role %s must not be the owner or the runtime role', :'backup'))
 WHERE :'backup' IN (:'owner', :'app')
\gexec
SELECT format('CREATE ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION', :'backup')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'backup')
\gexec
SELECT format('ALTER ROLE %I NOSUPERUSER', :'backup')
  FROM pg_roles WHERE rolname = :'backup' AND rolsuper
\gexec
ALTER ROLE :"backup" WITH LOGIN BYPASSRLS INHERIT NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'backup_password';
ALTER ROLE :"backup" SET default_transaction_read_only = on;
SELECT format('GRANT pg_read_all_data TO %I', :'backup')
 WHERE NOT pg_has_role(:'backup', 'pg_read_all_data', 'MEMBER')
\gexec
SELECT format('REVOKE %I FROM %I', r, :'backup')
  FROM (VALUES (:'owner'), (:'app')) AS member_of (r)
 WHERE pg_has_role(:'backup', r, 'MEMBER')
\gexec
GRANT CONNECT ON DATABASE :"db" TO :"backup";
\endif
SQL
