# Kundreg: `make run` starts everything, `make test` runs every test.
# Both use embedded PostgreSQL and Redis under var/ unless DATABASE_URL / REDIS_URL are set.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
EMBEDDED := $(PY) -m config.embedded run --
PORT ?= 8000
export PORT

.PHONY: install run test test-rabbitmq bench lint fmt check messages browser clean stop lock backup restore

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

run: install
	DJANGO_SETTINGS_MODULE=config.settings.dev $(EMBEDDED) sh scripts/run.sh

test: install browser
	DJANGO_SETTINGS_MODULE=config.settings.test $(EMBEDDED) sh scripts/test.sh $(ARGS)

# The worker tests (pytest -m worker: those with a real Celery worker) once more with the
# broker on RabbitMQ (docs/adr/0013-scale-out.md), when one answers on RABBITMQ_ADDR; else
# skipped: `make test` runs them on Redis. Redis keeps the cache, pacing and locks.
RABBITMQ_ADDR ?= 127.0.0.1:5672
RABBITMQ_URL ?= amqp://guest:guest@$(RABBITMQ_ADDR)//
test-rabbitmq: install
	@if $(PY) -c "import socket, sys; h, p = sys.argv[1].rsplit(':', 1); \
		socket.create_connection((h, int(p)), 2).close()" $(RABBITMQ_ADDR) 2>/dev/null; then \
		CELERY_BROKER_URL=$(RABBITMQ_URL) DJANGO_SETTINGS_MODULE=config.settings.test \
			$(EMBEDDED) sh scripts/test.sh -m worker --ignore=tests/browser $(ARGS); \
	else echo "No RabbitMQ on $(RABBITMQ_ADDR): the worker tests run on Redis only (make test)"; fi

bench: install
	DJANGO_SETTINGS_MODULE=config.settings.dev $(EMBEDDED) $(PY) -m benchmarks.run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(EMBEDDED) sh -c '$(PY) manage.py check && $(PY) manage.py makemigrations --check --dry-run'

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	DJANGO_SETTINGS_MODULE=config.settings.dev $(EMBEDDED) $(PY) manage.py merge_translation_fragments

# Lock files with hashes: requirements/prod.txt (the image's), requirements/dev.txt (the same
# versions plus development's). Versions already locked stay: `make lock LOCK_ARGS=--upgrade`.
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command "make lock" $(LOCK_ARGS)
lock: install
	mkdir -p requirements
	$(LOCK) -o requirements/prod.txt
	$(LOCK) --extra dev -c requirements/prod.txt -o requirements/dev.txt

# A production database's backup and restore (docs/operations.md, "Backups"): connection from
# PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. make backup FILE=x.dump; make restore FILE=x.dump
backup:
	sh deploy/backup.sh "$(or $(FILE),kundreg-$(shell date -u +%Y%m%dT%H%M%SZ).dump)"
restore:
	@test -n "$(FILE)" || (echo "make restore FILE=<dump of deploy/backup.sh>" >&2; exit 2)
	sh deploy/restore.sh "$(FILE)"

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
		(apt-get install -y --no-install-recommends chromium || \
		 (apt-get update && apt-get install -y --no-install-recommends chromium))) || \
		(echo "Chromium is missing: apt-get install chromium" >&2; exit 1)
	@# PgBouncer for tests/deploy/test_pgbouncer_isolation.py (Debian's package; skipped without).
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || (command -v apt-get >/dev/null && \
		(apt-get install -y --no-install-recommends pgbouncer || \
		 (apt-get update && apt-get install -y --no-install-recommends pgbouncer))) || \
		echo "PgBouncer is missing (apt-get install pgbouncer): its isolation test will skip" >&2

stop: install
	$(PY) -m config.embedded stop

clean: stop
	rm -rf var/postgres var/redis var/static var/run
