#!/bin/sh
# The README's production section, followed outside Docker on a machine with a system
# PostgreSQL and Redis (issue 15): the database and roles from deploy/postgres-init.sh, the
# image's build step (config.settings.build), the production settings from the environment
# only, deploy/start-web.sh (migrate as the owner, check --deploy, gunicorn), a Celery worker
# and beat as compose runs them; then a company, an API key, a customer and a consent
# request whose email must reach an SMTP server with a link to SITE_URL, and /healthz must
# see the worker and beat. Everything it creates (database, roles, files) is removed at the
# end. tests/deploy/test_prod_smoke.py runs it where the services exist.
#
#   SMOKE_PGHOST (127.0.0.1), SMOKE_PGPORT (5432), SMOKE_PGUSER (postgres): an admin that may
#   create roles and databases (PGPASSWORD if it needs one); SMOKE_REDIS_URL
#   (redis://127.0.0.1:6379/13); PY (.venv/bin/python): a Python with the runtime packages.
# Exit 0: passed; 77: PostgreSQL or Redis not reachable (skipped); anything else: failed.
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")
PGHOST=${SMOKE_PGHOST:-127.0.0.1}
PGPORT=${SMOKE_PGPORT:-5432}
PGUSER=${SMOKE_PGUSER:-postgres}
export PGHOST PGPORT PGUSER
REDIS=${SMOKE_REDIS_URL:-redis://127.0.0.1:6379/13}

say() { printf 'prod-smoke: %s\n' "$*"; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    say "no PostgreSQL at $PGHOST:$PGPORT as $PGUSER: skipped"; exit 77
fi
if ! "$PY" -c "import redis, sys; redis.Redis.from_url(sys.argv[1]).ping()" "$REDIS" 2>/dev/null; then
    say "no Redis at $REDIS: skipped"; exit 77
fi

run=$(date +%s)$$
work=$(mktemp -d "${TMPDIR:-/tmp}/kundreg-smoke-XXXXXX")
pids=""
export KUNDREG_DB_NAME="kundreg_smoke_$run"
export KUNDREG_OWNER_ROLE="kundreg_smoke_owner_$run"
export KUNDREG_APP_ROLE="kundreg_smoke_app_$run"
export KUNDREG_OWNER_PASSWORD="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
export KUNDREG_APP_PASSWORD="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"

cleanup() {
    status=$?
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
    psql -d postgres -qc "DROP DATABASE IF EXISTS \"$KUNDREG_DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
    psql -d postgres -qc "DROP ROLE IF EXISTS \"$KUNDREG_APP_ROLE\"" >/dev/null 2>&1 || true
    psql -d postgres -qc "DROP ROLE IF EXISTS \"$KUNDREG_OWNER_ROLE\"" >/dev/null 2>&1 || true
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*.log; do [ -f "$log" ] && { say "--- $log"; tail -n 40 "$log"; }; done
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT INT TERM

say "database and roles (deploy/postgres-init.sh)"
sh deploy/postgres-init.sh >"$work/init.log" 2>&1

say "build step (config.settings.build: no secret, no server)"
export KUNDREG_VAR_DIR="$work/var"
DJANGO_SETTINGS_MODULE=config.settings.build "$PY" manage.py compile_translations >"$work/build.log" 2>&1
DJANGO_SETTINGS_MODULE=config.settings.build "$PY" manage.py collectstatic --no-input >>"$work/build.log" 2>&1

smtp_port=$(free_port)
web_port=$(free_port)
mkdir -p "$work/mail"
"$PY" -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$work/mail/box" \
    >"$work/smtp.log" 2>&1 &
pids="$pids $!"

# The production environment, as the README's .env gives it.
db="$PGHOST:$PGPORT/$KUNDREG_DB_NAME"
export DJANGO_SETTINGS_MODULE=config.settings.prod
export DATABASE_URL="postgresql://$KUNDREG_APP_ROLE:$KUNDREG_APP_PASSWORD@$db"
export MIGRATION_DATABASE_URL="postgresql://$KUNDREG_OWNER_ROLE:$KUNDREG_OWNER_PASSWORD@$db"
export REDIS_URL="$REDIS"
export SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(60))')"
export AUDIT_CHAIN_KEY="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
export ALLOWED_HOSTS="localhost,127.0.0.1"
export SITE_URL="https://kundreg.smoke.example.com"
export EMAIL_URL="smtp://127.0.0.1:$smtp_port"
export DEFAULT_FROM_EMAIL="Kundreg <no-reply@nordljus.se>"
export SMS_BACKEND="notifications.backends.file.FileBackend"
export TRUSTED_PROXY_COUNT=1
export LOG_FORMAT=json

say "web (deploy/start-web.sh: migrate as the owner, check --deploy, gunicorn)"
PATH="$BIN:$PATH" GUNICORN_BIND="127.0.0.1:$web_port" WEB_CONCURRENCY=2 \
    sh deploy/start-web.sh >"$work/web.log" 2>&1 &
pids="$pids $!"
"$BIN/celery" -A config worker --loglevel INFO --concurrency 2 \
    --queues sending,batches,anonymization,exports,default,celery >"$work/worker.log" 2>&1 &
pids="$pids $!"
"$BIN/celery" -A config beat --loglevel INFO --schedule "$work/beat-schedule" \
    >"$work/beat.log" 2>&1 &
pids="$pids $!"

base="http://127.0.0.1:$web_port"
get() { "$PY" scripts/smoke_http.py "$@"; }
say "waiting for /livez"
get --wait 120 "$base/livez" >/dev/null

say "company, admin and API key (manage.py)"
"$PY" manage.py create_tenant --name "Nordljus AB" --country SE --slug nordljus \
    --admin-email anna@nordljus.se --admin-password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(16))')" \
    >"$work/tenant.log" 2>&1
key=$("$PY" manage.py create_api_key --tenant nordljus --name smoke \
    --scopes customers:read,customers:write,consent:write,consent:admin 2>>"$work/tenant.log" | tail -n 1)

say "/readyz and /healthz (database, Redis, broker, worker, beat)"
get --wait 120 "$base/readyz" >/dev/null
get --wait 180 "$base/healthz" >"$work/healthz.json"

say "the consent text, a customer and a consent request through the API"
get --key "$key" --post '{"language": "sv", "text": "Vi sparar dina uppgifter för erbjudanden."}' \
    "$base/api/v1/consent-terms/" >/dev/null
customer=$(get --key "$key" --post '{"name": "Åsa Öberg", "email": "asa@nordljus.se", "language": "sv"}' \
    --field id "$base/api/v1/customers/")
get --key "$key" --post '{"channel": "email"}' --header "Idempotency-Key: smoke-$run" \
    --status 202 "$base/api/v1/customers/$customer/consent-requests/" >/dev/null

say "the worker sends the email, its link goes to SITE_URL"
"$PY" - "$work/mail/box" "$SITE_URL" <<'PYEOF'
import mailbox, sys, time

box, site = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    for message in mailbox.Maildir(box, create=False) if __import__("os").path.isdir(box) else []:
        parts = message.walk() if message.is_multipart() else [message]
        text = "".join(p.get_payload(decode=True).decode("utf-8", "replace")
                       for p in parts if p.get_content_type() == "text/plain")
        if "asa@nordljus.se" in message["To"] and f"{site}/c/" in text:
            print("prod-smoke: consent email with a link to", site)
            sys.exit(0)
        sys.exit(f"prod-smoke: the email's link is not under {site}:\n{text[:500]}")
    time.sleep(1)
sys.exit("prod-smoke: no consent email within 120 s")
PYEOF
say "passed"
