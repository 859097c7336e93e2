#!/bin/sh
# Started by `make run` with the database and Redis URLs in the environment.
set -e
PY=.venv/bin/python
$PY manage.py migrate --no-input -v 0
$PY manage.py compile_translations
$PY manage.py collectstatic --no-input -v 0
# Refuse to start when the runtime role could bypass row security (tenancy.E001/E002).
$PY manage.py check --database default --fail-level ERROR
$PY manage.py seed_demo
echo
echo "Kundreg is starting on http://127.0.0.1:${PORT}/"
echo "Demo login: demo@kundreg.test / demo-password-2026 (Ctrl-C stops everything)"
echo
exec .venv/bin/honcho start -f Procfile
