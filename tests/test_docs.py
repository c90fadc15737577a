"""The user documentation points at files that exist: every relative link and picture in README.md,
CHANGELOG.md and docs/*.md, and every path of the repository that README.md and docs/*.md name in
backticks (the changelog's history may name files that were removed since)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
NAMED = re.compile(r"`((?:docs|examples|provenance|benchmarks|notebooks)/[^`\s*{}<>]+)`")  # `docs/x.md`


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_and_named_paths_exist(page):
    text = page.read_text()
    missing = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the same page
        if not (page.parent / target.split("#")[0]).exists():
            missing.append(target)
    for path in NAMED.findall(text) if page.name != "CHANGELOG.md" else []:
        if not (ROOT / path.rstrip(".,;:")).exists():
            missing.append(path)
    assert not missing, f"{page.name} names files that do not exist: {missing}"
