"""Every relative link in README.md and docs/*.md points to a file that exists, and each
``#anchor`` to a heading of that file, named as GitHub names it.

No app: plain files. GitHub's anchor of a heading: its text without markup, lowercased,
every character that is not a letter, digit, underscore, space or hyphen dropped, spaces
turned into hyphens; a repeated anchor gets ``-1``, ``-2``…
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target "title") and ![alt](target); the text may hold brackets one level deep.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\s(?:src|href)=\"([^\"]+)\"", re.I)
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.I)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, webcal:


def _without_code(text: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _plain(heading: str) -> str:
    """The heading's text as GitHub shows it: links by their text, no emphasis or code
    marks."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return text.replace("`", "").replace("*", "")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (before de-duplication)."""
    kept = []
    for char in _plain(heading).strip().lower():
        category = unicodedata.category(char)
        if char in " -_" or category[0] in "LN" or category == "Mn":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a page offers: its headings (repeats numbered) and HTML anchors."""
    text = path.read_text(encoding="utf-8")
    seen: dict[str, int] = {}
    found = set(HTML_ANCHOR.findall(text))
    for _level, heading in HEADING.findall(FENCE.sub("", text)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    """The link targets of a page, outside code: Markdown links and images, reference
    definitions, and HTML ``<img src>`` and ``<a href>``."""
    text = _without_code(path.read_text(encoding="utf-8"))
    return INLINE_LINK.findall(text) + REFERENCE.findall(text) + HTML_LINK.findall(text)


def broken(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the page's relative links, in words (empty: nothing)."""
    problems = []
    for target in links(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        goal = (path.parent / file_part).resolve() if file_part else path
        if not goal.exists():
            problems.append(f"{target}: no file {goal.relative_to(root)}")
            continue
        if anchor and goal.suffix == ".md" and anchor not in anchors(goal):
            problems.append(f"{target}: no heading #{anchor} in {goal.relative_to(root)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken(page) == []


def test_the_docs_exist_and_the_readme_links_each_of_them() -> None:
    docs = {p.name for p in PAGES if p.parent.name == "docs"}
    assert len(docs) >= 10
    readme_targets = {t.partition("#")[0] for t in links(ROOT / "README.md")}
    assert {f"docs/{name}" for name in docs} <= readme_targets


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        # Checked by hand against headings rendered on github.com.
        ("Production (PostgreSQL + gunicorn)", "production-postgresql--gunicorn"),
        ("The best plan, not the first one", "the-best-plan-not-the-first-one"),
        ("Tests on PostgreSQL", "tests-on-postgresql"),
        ("`make screenshots`", "make-screenshots"),
        ("Learning questions (leervragen)", "learning-questions-leervragen"),
        ("Crèche & co.", "crèche--co"),
        ("What's new: 2026–2027", "whats-new-20262027"),
        ("snake_case stays", "snake_case-stays"),
        ("A [link](x.md) in a heading", "a-link-in-a-heading"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_broken_link_and_a_missing_heading_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Title\n\n## Same\n\n## Same\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#same-1) [ok](#here) [gone](missing.md) [bad](other.md#same-2)\n"
        "`[in code](nowhere.md)` [web](https://example.org/x.md)\n"
        '<img alt="" src="img/none.png"> ![pic](img/gone.png)\n\n## Here\n',
        encoding="utf-8",
    )
    assert broken(page, root=tmp_path) == [
        "missing.md: no file missing.md",
        "other.md#same-2: no heading #same-2 in other.md",
        "img/gone.png: no file img/gone.png",
        "img/none.png: no file img/none.png",
    ]


def test_the_readme_shows_every_picture_in_docs_img() -> None:
    pictures = {f"docs/img/{p.name}" for p in (ROOT / "docs" / "img").glob("*.png")}
    assert len(pictures) >= 3
    assert pictures == {t for t in links(ROOT / "README.md") if t.startswith("docs/img/")}


CODE_PATH = re.compile(r"`((?:learnnet|tests|templates|static|migrations)/[\w./-]*?)(?:::\w+)?`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_of_the_code_a_page_names_exists(page: Path) -> None:
    """`learnnet/…`, `tests/…`, `templates/…` in backticks: the file or folder is there (a
    move in the code must move the docs along)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    named = {m for m in CODE_PATH.findall(text) if "<" not in m and "*" not in m}
    assert sorted(p for p in named if not (ROOT / p).exists()) == []
