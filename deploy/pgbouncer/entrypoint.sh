#!/bin/sh
# Writes PgBouncer's configuration from the environment and runs it in the foreground.
# Transaction pooling: a server connection is lent for one transaction at a time, which is
# safe because the tenant variable is transaction-local (docs/adr/0005, docs/adr/0013).
set -eu
conf=/tmp/pgbouncer
mkdir -p "$conf"
umask 077
printf '"%s" "%s"\n' "${KUNDREG_APP_ROLE:-kundreg_app}" "$KUNDREG_APP_PASSWORD" > "$conf/userlist.txt"
cat > "$conf/pgbouncer.ini" <<INI
[databases]
${KUNDREG_DB_NAME:-kundreg} = host=${POSTGRES_HOST:-postgres} port=5432 dbname=${KUNDREG_DB_NAME:-kundreg}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $conf/userlist.txt
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-1000}
ignore_startup_parameters = extra_float_digits,options
INI
exec pgbouncer "$conf/pgbouncer.ini"
