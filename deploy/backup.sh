#!/bin/sh
# A consistent backup of Kundreg's database: pg_dump's custom format (-Fc), taken in one
# snapshot while the application runs, as the backup role that deploy/postgres-init.sh makes
# (KUNDREG_BACKUP_PASSWORD). Only that role sees every row: row security is forced on the
# tenant tables, for their owner too, so the owner's dump would fail or come out empty.
#
#   sh deploy/backup.sh FILE        (FILE "-": the dump goes to standard output)
#
# Connection from libpq's variables: PGHOST, PGPORT, PGUSER (default: KUNDREG_BACKUP_ROLE or
# kundreg_backup), PGPASSWORD (or KUNDREG_BACKUP_PASSWORD, or ~/.pgpass), PGDATABASE
# (default: KUNDREG_DB_NAME or kundreg). In docker compose, in the postgres container:
#   docker compose exec -T postgres sh -s -- - < deploy/backup.sh > kundreg-$(date +%F).dump
# The dump holds the database's schema, data, row-security policies, triggers and table
# grants; not the roles (cluster-wide) and not the database's own grants, which
# deploy/postgres-init.sh recreates before a restore (deploy/restore.sh). Not in it either,
# by design: AUDIT_CHECKPOINT_DIR, ERASURE_JOURNAL_DIR and media, backed up on their own
# (docs/operations.md, "Backups").
set -eu
if [ $# -ne 1 ]; then
    echo "usage: sh deploy/backup.sh FILE   (- for standard output)" >&2
    exit 2
fi
PGUSER="${PGUSER:-${KUNDREG_BACKUP_ROLE:-kundreg_backup}}"
PGDATABASE="${PGDATABASE:-${KUNDREG_DB_NAME:-kundreg}}"
export PGUSER PGDATABASE
if [ -z "${PGPASSWORD:-}" ] && [ -n "${KUNDREG_BACKUP_PASSWORD:-}" ]; then
    PGPASSWORD="$KUNDREG_BACKUP_PASSWORD"  # as in the postgres container
    export PGPASSWORD
fi

# A role that row security would filter gets an error instead of an empty table (pg_dump's
# default, row_security off); say what is wrong before pg_dump does.
bypass=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -c \
    "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
if [ "$bypass" != "t" ]; then
    echo "backup.sh: $PGUSER cannot bypass row security: connect as the backup role" \
        "(KUNDREG_BACKUP_ROLE, made by deploy/postgres-init.sh with KUNDREG_BACKUP_PASSWORD)" >&2
    exit 1
fi

if [ "$1" = "-" ]; then
    exec pg_dump --format=custom --no-password
fi
# Written next to the target, moved into place only when complete.
tmp="$1.partial"
trap 'rm -f "$tmp"' EXIT
pg_dump --format=custom --no-password --file="$tmp"
pg_restore --list "$tmp" >/dev/null  # readable, complete
mv "$tmp" "$1"
trap - EXIT
echo "backup.sh: $PGDATABASE written to $1" >&2
