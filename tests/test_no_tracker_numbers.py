"""The study speaks for itself: a reader who clones the repository has none of its tracker, so no file a reader meets
explains a choice by a tracker number ("issue 26's gate", "(#27)"); the sentence names the thing and its reason.

Scanned: the package, the notebooks' cell sources (not their stored outputs), docs/, benchmarks/, tests/, the README
and the Makefile, with no exception.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from magvit.infra.paths import REPO_ROOT

# "issue 26", "Issue #27", "issue-25", "issues 26/27", "ISSUE_14", and a bare "(#15)"
TRACKER_NUMBER = re.compile(r"(?<![a-z])issues?[ _-]?#?[0-9]|\(#[0-9]+\)", re.IGNORECASE)
TEXT_SUFFIXES = {".py", ".md", ".sh", ".txt", ".toml", ".cfg", ".yml", ".yaml", ".json", ".csv", ".ipynb"}


def scanned_files() -> list[Path]:
    files = [REPO_ROOT / "README.md", REPO_ROOT / "Makefile"]
    for folder in ("magvit", "docs", "benchmarks", "tests"):
        files += sorted(p for p in (REPO_ROOT / folder).rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
                        and "__pycache__" not in p.parts)
    files += sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    return [p for p in files if p.resolve() != Path(__file__).resolve()]


def lines_of(path: Path) -> list[tuple[str, int, str]]:
    """(where, line number, text) of every line a reader meets: a notebook's cell sources, else the file's lines."""
    rel = path.relative_to(REPO_ROOT).as_posix()
    if path.suffix != ".ipynb":
        return [(rel, n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(f"{rel} cell {i}", n, line) for i, cell in enumerate(cells)
            for n, line in enumerate("".join(cell["source"]).splitlines(), 1)]


def tracker_numbers(lines: list[tuple[str, int, str]]) -> list[str]:
    found = []
    for where, n, line in lines:
        if TRACKER_NUMBER.search(line):
            found.append(f"{where}:{n}: {line.strip()}")
    return found


def test_the_pattern_catches_tracker_numbers():
    for text in ("issue 26's gate", "Issue 27", "(#27)", "issue #15", "issues 26/27", "issue-25 rules", "ISSUE_14",
                 "GENERATOR_VERSION = \"issue26\""):
        assert TRACKER_NUMBER.search(text), text
    for text in ("the retention gate", "tissue 3", "step #27 of 30", "an issue with 3 causes"):
        assert not TRACKER_NUMBER.search(text), text
    # a hit in a scanned line is reported with its file and line, a clean line is not
    found = tracker_numbers([("magvit/x.py", 3, "# issue 26's gate"), ("magvit/x.py", 4, "# the retention gate")])
    assert found == ["magvit/x.py:3: # issue 26's gate"]


def test_no_file_a_reader_meets_names_a_tracker_number():
    files = scanned_files()
    assert any(p.name == "procedural.py" for p in files) and any(p.suffix == ".ipynb" for p in files)
    found = [hit for path in files for hit in tracker_numbers(lines_of(path))]
    assert not found, ("name the thing and its reason instead of a tracker number:\n" + "\n".join(found))
