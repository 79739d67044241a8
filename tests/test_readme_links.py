"""The reader's path: a README that fits one sitting, starts with the two commands, links every page of
``docs/``, and whose links (and the docs pages' links) all resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
MAX_README_CHARS = 15_000
# [text](target) and ![alt](target); a target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)  # code blocks hold no links
    return LINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(path: Path, root: Path = REPO) -> list[str]:
    bad = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not checked here (offline)
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            bad.append(f"{path.relative_to(root)}: {target} (no such file)")
        elif anchor and resolved.suffix == ".md":
            headings = {slug(h) for h in re.findall(r"^#+\s+(.*)$", resolved.read_text(), flags=re.M)}
            if anchor not in headings:
                bad.append(f"{path.relative_to(root)}: {target} (no heading #{anchor})")
    return bad


def test_readme_fits_one_sitting_and_starts_with_the_two_commands():
    text = README.read_text()
    assert len(text) <= MAX_README_CHARS, f"README.md has {len(text)} characters; at most {MAX_README_CHARS}"
    first_block = re.search(r"```bash\n(.*?)```", text, flags=re.S)
    assert first_block and text.index("```bash") < text.index("\n## "), "the README must open with the commands"
    commands = [line.split("#")[0].strip() for line in first_block[1].splitlines() if line.strip()]
    assert commands == ["make reproduce", "make test"], commands


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    assert not (bad := broken_links(path)), "broken links:\n" + "\n".join(bad)


def test_every_docs_page_is_linked_once_from_the_readme():
    linked = [(README.parent / t.partition("#")[0]).resolve() for t in links(README)]
    counts = {p.name: linked.count(p.resolve()) for p in DOCS}
    assert all(n == 1 for n in counts.values()), f"links from README.md to each docs page (want 1 each): {counts}"


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A heading, with punctuation\n")
    page.write_text("[ok](there.md) [ok](there.md#a-heading-with-punctuation) [web](https://example.org)\n"
                    "```\n[in code](nowhere.md)\n```\n[gone](nowhere.md) [bad anchor](there.md#other)\n")
    found = [b.split(": ", 1)[1] for b in broken_links(page, tmp_path)]
    assert found == ["nowhere.md (no such file)", "there.md#other (no heading #other)"]

