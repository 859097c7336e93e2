"""docker-compose.yml and the README's `.env` example agree, and a deployment needs no Twilio.

No Docker engine runs here: the compose file is parsed with PyYAML and its `${VAR}`
interpolation done as compose does it; the app's environment so built is given to the
production settings in a subprocess.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.dockerfile import BASE_DIR, instructions

SERVICES = ("postgres", "redis", "web", "worker", "beat")
APP_SERVICES = ("web", "worker", "beat")
REQUIRED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?[^}]*\}")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def _required(node) -> set[str]:
    """Names every `${NAME:?message}` in the file's values (comments are not compose's)."""
    if isinstance(node, dict):
        return set().union(*(_required(v) for v in node.values()), *map(_required, node))
    if isinstance(node, list):
        return set().union(*map(_required, node))
    return set(REQUIRED.findall(node)) if isinstance(node, str) else set()


def _readme_env_example() -> tuple[dict[str, str], set[str]]:
    """({name: value} of the example's lines, names it mentions only in comments)."""
    readme = (BASE_DIR / "README.md").read_text()
    block = re.search(r"cat > \.env <<'EOF'\n(.*?)\nEOF\n", readme, re.S)
    assert block, "README has no `cat > .env` example"
    values, commented = {}, set()
    for line in block.group(1).splitlines():
        match = ENV_LINE.match(line.strip())
        if not match:
            continue
        comment, name, value = match.groups()
        if comment:
            commented.add(name)
            continue
        value = re.split(r"\s+#", value, maxsplit=1)[0].strip()  # compose: ` #` starts a comment
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values, commented


def _dotenv(**overrides: str | None) -> dict[str, str]:
    """The README's example filled in: each `…` a fresh random value, as its comments say."""
    values, _ = _readme_env_example()
    env = {n: secrets.token_hex(32) if v == "…" else v for n, v in values.items()}
    env |= overrides
    return {n: v for n, v in env.items() if v is not None}


def _interpolate(value: str, env: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        name, operator, argument = match.groups()
        current = env.get(name, "")
        if operator in (":?", "?"):
            if not current:
                raise LookupError(f"compose refuses to start: {argument}")
            return current
        if operator in (":-", "-"):
            return current or argument
        return current

    return INTERPOLATION.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def _app_environment(compose: dict, service: str, dotenv: dict[str, str]) -> dict[str, str]:
    """What the container gets: set values interpolated, bare names passed through if set."""
    env = {}
    for name, value in compose["services"][service]["environment"].items():
        if value is None:
            if dotenv.get(name):
                env[name] = dotenv[name]
        else:
            env[name] = _interpolate(str(value), dotenv)
    return env


def test_every_variable_compose_requires_is_in_the_readme_example_and_vice_versa(compose):
    required = _required(compose)
    example, _ = _readme_env_example()
    assert required == set(example)


def test_what_the_example_only_mentions_compose_passes_through(compose):
    _, commented = _readme_env_example()
    passed = set(compose["services"]["web"]["environment"])
    assert commented and commented <= passed


def test_twilio_is_not_required_by_compose(compose):
    assert not {n for n in _required(compose) if n.startswith(("TWILIO", "SMS"))}
    for service in APP_SERVICES:
        env = compose["services"][service]["environment"]
        assert "SMS_BACKEND" in env and "TWILIO_ACCOUNT_SID" in env


def _prod_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the container's environment (plus PATH): nothing of this machine's reaches it.
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "sms",
    [
        {"SMS_BACKEND": "notifications.backends.file.FileBackend"},
        {
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "twilio-token",
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
        },
    ],
    ids=["sms-backend-alone", "twilio"],
)
def test_the_readme_example_starts_production_with_either_sms_choice(compose, sms):
    env = _app_environment(compose, "web", _dotenv(**sms))
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    result = _prod_check(env)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout
    assert "no issues" in result.stdout


def test_the_readme_example_without_an_sms_choice_is_refused_by_name(compose):
    env = _app_environment(compose, "web", _dotenv())
    result = _prod_check(env)
    assert result.returncode != 0
    assert "SMS_BACKEND" in result.stderr and "TWILIO_ACCOUNT_SID" in result.stderr


def test_compose_names_what_is_missing(compose):
    with pytest.raises(LookupError, match="DEFAULT_FROM_EMAIL"):
        _app_environment(compose, "web", _dotenv(DEFAULT_FROM_EMAIL=None))


@pytest.mark.parametrize("service", SERVICES)
def test_every_log_is_rotated_and_every_container_limited(compose, service):
    spec = compose["services"][service]
    assert spec["logging"]["driver"] == "json-file"
    assert {"max-size", "max-file"} <= set(spec["logging"]["options"])
    limits = spec["deploy"]["resources"]["limits"]
    assert limits.get("memory") and limits.get("cpus")


def test_the_worker_runs_a_set_number_of_tasks(compose):
    command = [_interpolate(str(part), {}) for part in compose["services"]["worker"]["command"]]
    assert int(command[command.index("--concurrency") + 1]) >= 1


def test_web_runs_what_the_image_runs_on_its_own(compose):
    cmd = [i for i in instructions() if i.name == "CMD"][-1].exec_form()
    assert compose["services"]["web"]["command"] == cmd
    script = cmd[-1].removeprefix("/app/")
    copied = [i.args.split() for i in instructions() if i.name == "COPY"]
    assert any(c[0] == script for c in copied)
    assert Path(BASE_DIR / script).exists()
