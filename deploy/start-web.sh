#!/bin/sh
# The image's default command, and docker-compose's web: never serve an unchecked database.
# Migrates as the owner role (MIGRATION_DATABASE_URL), refuses to go on when the runtime role
# could bypass row security or another deployment check fails (tenancy.E001/E002,
# notifications.E001, ...), then serves. Settings that are missing or weak stop it before that.
set -eu
# One time zone in every log line, gunicorn's own included (Django's are UTC already).
export TZ=UTC
python manage.py migrate --no-input
python manage.py check --database default --deploy
# TLS and X-Forwarded-For are the reverse proxy's (README, "Production"); its X-Forwarded-Proto
# is what Django's SECURE_PROXY_SSL_HEADER reads.
exec gunicorn config.wsgi --bind "${GUNICORN_BIND:-0.0.0.0:8000}" --workers "${WEB_CONCURRENCY:-3}" \
    --forwarded-allow-ips '*' --access-logfile -
