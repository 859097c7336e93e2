#!/bin/sh
# Restores a dump of deploy/backup.sh into an empty database, as the owner role.
#
#   sh deploy/restore.sh FILE
#
# Before: stop web, worker and beat; recreate the database empty and the roles with
# deploy/postgres-init.sh (roles are cluster-wide and not in the dump: the same role names as
# when the backup was taken, since the dump's grants name them). As an admin:
#   psql -c 'DROP DATABASE kundreg WITH (FORCE)'   # or restore into a new name
#   sh deploy/postgres-init.sh                     # database, owner, runtime and backup roles
# After: `manage.py migrate` (a newer release's migrations), `manage.py replay_erasures`
# (erasures made since the backup; docs/anonymization.md, "Restoring a backup"),
# `manage.py verify_audit_log`, then start the application again.
#
# Connection from libpq's variables: PGHOST, PGPORT, PGUSER (default: KUNDREG_OWNER_ROLE or
# kundreg_owner), PGPASSWORD (or KUNDREG_OWNER_PASSWORD, or ~/.pgpass), PGDATABASE (default:
# KUNDREG_DB_NAME or kundreg). docs/operations.md, "Backups", has the docker compose steps.
# Everything is restored in one transaction owned by PGUSER: on any error nothing is.
set -eu
if [ $# -ne 1 ] || [ ! -r "$1" ]; then
    echo "usage: sh deploy/restore.sh FILE   (a dump written by deploy/backup.sh)" >&2
    exit 2
fi
PGUSER="${PGUSER:-${KUNDREG_OWNER_ROLE:-kundreg_owner}}"
PGDATABASE="${PGDATABASE:-${KUNDREG_DB_NAME:-kundreg}}"
export PGUSER PGDATABASE
if [ -z "${PGPASSWORD:-}" ] && [ -n "${KUNDREG_OWNER_PASSWORD:-}" ]; then
    PGPASSWORD="$KUNDREG_OWNER_PASSWORD"  # as in the postgres container
    export PGPASSWORD
fi

tables=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -c \
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND c.relkind IN ('r', 'p')")
if [ "$tables" != "0" ]; then
    echo "restore.sh: $PGDATABASE is not empty ($tables tables): restore into a new or" \
        "recreated database (deploy/postgres-init.sh)" >&2
    exit 1
fi

pg_restore --no-password --dbname="$PGDATABASE" --no-owner --exit-on-error \
    --single-transaction "$1"
echo "restore.sh: $1 restored into $PGDATABASE; next: manage.py migrate," \
    "manage.py replay_erasures, manage.py verify_audit_log" >&2
