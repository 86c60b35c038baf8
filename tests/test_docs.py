"""The README is the entrance and docs/ the manual: every relative link between them leads to
a file that exists and, when it names one, to a heading that exists, so moving a page or
renaming a section fails here instead of leaving a reader at a dead end."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
CODE = re.compile(r"(`+)(.+?)\1", re.S)
# [text](target) and ![alt](target), the text on one line or several; an optional "title".
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def prose(text: str) -> str:
    """The text as a reader sees its links: no fenced blocks, code spans kept as plain words
    (a link's text may be code, and brackets inside code are not links)."""
    text = FENCE.sub("", text)
    return CODE.sub(lambda m: "code", text)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    heading = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text alone
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor on `page`; a repeated heading gets -1, -2, … as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for _, text in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(text)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def relative_links(page: Path) -> list[str]:
    return [t for t in LINK.findall(prose(page.read_text(encoding="utf-8")))
            if not SCHEME.match(t)]


def test_the_slug_is_githubs():
    assert slug("API and export (stable contract)") == "api-and-export-stable-contract"
    assert slug("`searchapp check [--repair]`") == "searchapp-check---repair"
    assert slug("Other libraries' private parts") == "other-libraries-private-parts"


def test_links_are_found_wherever_they_stand():
    text = ("[a](one.md) ![a picture\nover two lines](two.png) `[not](a-link.md)`\n"
            "```\n[nor](this.md)\n```\n[b](https://example.org) [c](#here)")
    assert LINK.findall(prose(text)) == ["one.md", "two.png", "https://example.org", "#here"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        found = (page.parent / path).resolve() if path else page
        if not found.is_relative_to(ROOT.resolve()) or not found.exists():
            broken.append(f"{target}: no such file")
        elif fragment and (found.suffix != ".md" or fragment not in anchors(found)):
            broken.append(f"{target}: no heading #{fragment} in {found.name}")
    assert broken == [], f"{page.name}: {broken}"


def test_the_readme_leads_to_every_page_of_the_manual():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(ROOT / "README.md")}
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


def test_the_readme_stays_an_entrance():
    """Read in five minutes: the manual lives in docs/, the screenshot stays small."""
    readme = ROOT / "README.md"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 150
    images = [ROOT / t for t in relative_links(readme) if t.endswith(".png")]
    assert images and all(p.stat().st_size < 200_000 for p in images)


def test_the_package_describes_itself_with_the_readme():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert (ROOT / project["readme"]).resolve() == (ROOT / "README.md").resolve()
