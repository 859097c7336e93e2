#!/bin/sh
# Started by `make test` with the database and Redis URLs in the environment.
set -e
PY=.venv/bin/python
$PY manage.py compile_translations
exec $PY -m pytest -n "${TEST_WORKERS:-auto}" --dist loadgroup "$@"
