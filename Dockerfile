# The Kundreg application image: web (gunicorn), worker and beat (Celery) all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: exactly the versions of the lock
# file, each download checked against its hash (`make lock` writes it from pyproject.toml).
# Runtime packages only: the embedded servers, honcho and the test tools are development's
# (requirements/dev.txt). The project itself is not installed: the code runs from /app.
COPY requirements/prod.txt ./requirements/prod.txt
RUN pip install --no-deps --require-hashes -r requirements/prod.txt

# Explicit paths, not `COPY . .`: var/ (the embedded servers' data), .venv/, .env and the tests
# stay out.
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
COPY webhooks ./webhooks
COPY templates ./templates
COPY static ./static
COPY locale ./locale
COPY deploy/start-web.sh ./deploy/start-web.sh

# Translations and static files are built into the image with the build's own settings: no
# secret, no provider, no server (config/settings/build.py). tests/deploy/test_image_build.py
# runs this step outside Docker with exactly this environment.
RUN DJANGO_SETTINGS_MODULE=config.settings.build python manage.py compile_translations \
 && DJANGO_SETTINGS_MODULE=config.settings.build python manage.py collectstatic --no-input -v 0

RUN useradd --system --create-home --home-dir /home/kundreg kundreg \
 && mkdir -p /app/var/media /app/var/audit-checkpoints /app/var/erasure-journal \
 && chown -R kundreg:kundreg /app/var

USER kundreg
ENV DJANGO_SETTINGS_MODULE=config.settings.prod
EXPOSE 8000
# On its own (`docker run`), the image does what compose's web does: migrate, refuse to serve when
# the runtime role could bypass row security or a deployment check fails, then gunicorn. Worker
# and beat give their own command (docker-compose.yml).
CMD ["sh", "/app/deploy/start-web.sh"]
