#!/bin/sh
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d).
# Two roles (docs/adr/0002-two-database-roles.md):
#   kundreg_owner  owns the database and its tables, runs migrations (MIGRATION_DATABASE_URL);
#   kundreg_app    what the application connects as (DATABASE_URL): not superuser, not owner,
#                  no BYPASSRLS, so row-level security applies to every query it makes.
# `manage.py migrate` (as the owner) grants kundreg_app its table privileges afterwards.
set -eu
: "${KUNDREG_OWNER_PASSWORD:?set KUNDREG_OWNER_PASSWORD}"
: "${KUNDREG_APP_PASSWORD:?set KUNDREG_APP_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$KUNDREG_OWNER_PASSWORD" -v app_password="$KUNDREG_APP_PASSWORD" <<'SQL'
CREATE ROLE kundreg_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
    PASSWORD :'owner_password';
CREATE ROLE kundreg_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
    PASSWORD :'app_password';
CREATE DATABASE kundreg OWNER kundreg_owner;
REVOKE ALL ON DATABASE kundreg FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE kundreg TO kundreg_app;
SQL
