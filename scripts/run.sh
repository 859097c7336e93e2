#!/bin/sh
# Started by `make run` with the database and Redis URLs in the environment.
set -e
. scripts/run-env.sh
.venv/bin/python manage.py prepare_dev
echo
echo "Kundreg is starting on http://127.0.0.1:${PORT}/"
echo "Demo login: demo@kundreg.test / demo-password-2026 (Ctrl-C stops everything)"
echo
exec .venv/bin/honcho start -f Procfile
