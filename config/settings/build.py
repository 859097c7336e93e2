"""The image's build step (Dockerfile): compile_translations and collectstatic, no secrets.

The runtime settings (prod.py) refuse to load without their secrets and providers, which a
build must never see. Static files and translations depend only on what base.py configures
(the apps, STATIC_ROOT, STATICFILES_DIRS, STORAGES, LOCALE_PATHS), so the build loads that and
demands nothing. Nothing connects to a server during the build: the URLs below only keep
base.py from starting the embedded servers, which the image does not have.
tests/deploy/test_image_build.py runs the Dockerfile's build step with exactly its environment
and checks that these settings lay out static files as prod's do.
"""

import os

# Not setdefault: whatever the environment says, a build talks to no database or Redis.
os.environ["DATABASE_URL"] = "postgresql://build@build.invalid/build"
os.environ["REDIS_URL"] = "redis://build.invalid:6379/0"

from .base import *  # noqa: F403

DEBUG = False
