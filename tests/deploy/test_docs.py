"""The repository explains itself (issue 15 item 9): its guides link only to what it holds.

README.md and every guide under docs/ (docs/adr/ included; docs/dev/, notes for the people
working in this tree, is not a guide) are read as Markdown, outside fenced code blocks: every
relative link `[text](path)`, every mention of a guide (`docs/….md`, backticked or not, and
backticked folders such as `docs/adr/`) and every short ADR reference (docs/adr/0006) must
name a file or folder of the repository; and none may send the reader to the design brief or
API contract that lived outside it (shared/DESIGN.md, shared/API.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
DOCS = BASE_DIR / "docs"

# [text](target) or [text](target "title"); images too. Not inside fenced code blocks.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A guide named in prose, backticked or not (`docs/api.md`, docs/adr/0013-scale-out.md), or a
# backticked folder (`docs/adr/`); written from the repository's root. Link targets are above.
MENTION = re.compile(r"(?<![\w/.(-])(docs/(?:[\w-]+/)*[\w.-]+\.md)\b|`(docs/[^`\s]*/)`")
# docs/adr/0006: a short reference to a numbered decision.
ADR_NUMBER = re.compile(r"\bdocs/adr/(\d{4})\b(?![-\w./])")
OUTSIDE = ("shared/DESIGN.md", "shared/API.md")
FENCE = re.compile(r"^\s*(```|~~~)")


def guides() -> list[Path]:
    return [BASE_DIR / "README.md", *sorted(DOCS.glob("*.md")), *sorted(DOCS.glob("adr/*.md"))]


def _prose(path: Path) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def _name(path: Path, root: Path = BASE_DIR) -> str:
    return str(path.relative_to(root))


def _exists(base: Path, target: str, root: Path) -> bool:
    resolved = (base / target).resolve()
    return resolved.is_relative_to(root) and resolved.exists()


def broken_links(path: Path, root: Path = BASE_DIR) -> list[str]:
    """Each relative link, guide mention or ADR number in ``path`` that names nothing."""
    problems = []
    name = _name(path, root)
    for number, line in _prose(path):
        for target in LINK.findall(line):
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("#", "mailto:")):
                continue  # a web address or a heading of the same page
            relative = unquote(parts.path)
            if relative.startswith("/"):
                problems.append(f"{name}:{number}: absolute path {target}")
            elif not _exists(path.parent, relative, root):
                problems.append(f"{name}:{number}: link to missing {target}")
        for target in filter(None, sum(MENTION.findall(line), ())):
            if not _exists(root, target, root):
                problems.append(f"{name}:{number}: mentions missing {target}")
        for adr in ADR_NUMBER.findall(line):
            if not list(root.glob(f"docs/adr/{adr}-*.md")):
                problems.append(f"{name}:{number}: mentions missing ADR {adr}")
    return problems


@pytest.mark.parametrize("path", guides(), ids=_name)
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


@pytest.mark.parametrize("path", guides(), ids=_name)
def test_nothing_points_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    assert [name for name in OUTSIDE if name in text] == []


def test_the_readme_lists_the_guides():
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    for guide in (
        "docs/design.md",
        "docs/api.md",
        "docs/operations.md",
        "docs/anonymization.md",
        "docs/reports.md",
        "docs/benchmarks.md",
        "docs/adr/",
    ):
        assert f"]({guide})" in readme, guide
        assert (BASE_DIR / guide).exists(), guide


def test_the_checker_sees_what_it_is_for(tmp_path):
    """The checks above would catch a broken link, not only pass on today's guides."""
    root = tmp_path.resolve()
    (root / "docs" / "adr").mkdir(parents=True)
    (root / "docs" / "there.md").write_text("x")
    (root / "docs" / "adr" / "0001-one.md").write_text("x")
    page = root / "docs" / "page.md"
    page.write_text(
        "[ok](there.md) [web](https://example.com/x.md) [here](#heading) [adr](adr/)\n"
        "[gone](missing.md) `docs/gone.md` `docs/there.md` [up](../../etc/passwd)\n"
        "see docs/lost.md, `docs/nothing/` and [x](there.md)\n"
        "docs/adr/0001 and docs/adr/0002\n"
        "```\n[in code](nowhere.md) docs/nowhere.md\n```\n"
    )
    assert broken_links(page, root) == [
        "docs/page.md:2: link to missing missing.md",
        "docs/page.md:2: link to missing ../../etc/passwd",
        "docs/page.md:2: mentions missing docs/gone.md",
        "docs/page.md:3: mentions missing docs/lost.md",
        "docs/page.md:3: mentions missing docs/nothing/",
        "docs/page.md:4: mentions missing ADR 0002",
    ]
