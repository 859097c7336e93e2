# The Kundreg application image: web (gunicorn), worker and beat (Celery) all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
# (pyproject.toml installs no packages of its own: the code runs from /app.)
COPY pyproject.toml ./
RUN pip install .

# Explicit paths, not `COPY . .`: var/ (the embedded servers' data) and .venv/ stay out.
COPY manage.py ./
COPY config ./config
COPY tenancy ./tenancy
COPY audit ./audit
COPY anonymization ./anonymization
COPY customers ./customers
COPY sales ./sales
COPY notifications ./notifications
COPY consent ./consent
COPY reports ./reports
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# Static files and translations are built into the image. These placeholder values only let the
# settings import; nothing connects to them during the build.
RUN DJANGO_SETTINGS_MODULE=config.settings.prod \
    SECRET_KEY=build-only-placeholder-secret-key-0123456789abcdefghijklmnopqrstuvwxyz \
    AUDIT_CHAIN_KEY=build-only-placeholder-audit-key-0123456789abcdef \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgresql://build:build@build.invalid/build \
    MIGRATION_DATABASE_URL=postgresql://build:build@build.invalid/build \
    REDIS_URL=redis://build.invalid:6379/0 \
    sh -c 'python manage.py compile_translations && python manage.py collectstatic --no-input -v 0' \
 && useradd --system --create-home --home-dir /home/kundreg kundreg \
 && mkdir -p /app/var/media /app/var/audit-checkpoints \
 && chown -R kundreg:kundreg /app/var

USER kundreg
ENV DJANGO_SETTINGS_MODULE=config.settings.prod
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
