"""The Dockerfile read the way `docker build` reads it, for tests that cannot run Docker."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DOCKERFILE = BASE_DIR / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    name: str  # upper case: FROM, ENV, RUN, ...
    args: str  # the rest, continuation lines joined

    def exec_form(self) -> list[str] | None:
        """A JSON array (CMD ["sh", "x"]), or None for the shell form."""
        if self.args.lstrip().startswith("["):
            return json.loads(self.args)
        return None


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    result, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):  # comments inside a continued RUN
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        name, _, args = text.partition(" ")
        result.append(Instruction(name.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return result


def env_pairs(instruction: Instruction) -> dict[str, str]:
    """ENV A=1 B="two words" (the legacy `ENV A 1` form is not used here)."""
    pairs = {}
    for word in shlex.split(instruction.args):
        name, sep, value = word.partition("=")
        assert sep, f"ENV in the legacy form: {instruction.args}"
        pairs[name] = value
    return pairs


def inline_assignments(command: str) -> dict[str, str]:
    """NAME=value words a shell command sets for the commands it runs."""
    return dict(re.findall(r"(?:^|[\s;&|(])([A-Z_][A-Z0-9_]*)=(\S*)", command))
