"""The study's verdict: every claim collected, the README's results block in step with results/claims.csv."""

from __future__ import annotations

from pathlib import Path

import pytest

from magvit.experiments import claims, summary
from magvit.experiments.verdicts import PARTLY, REPRODUCED

REPO = Path(__file__).resolve().parents[1]


def _write(folder: Path, name: str, rows: list[dict], benchmark: str) -> None:
    claims.verdict_table(rows, "a setting", benchmark=benchmark).to_csv(folder / f"claims_{name}.csv", index=False)


def test_collect_lists_every_claim_and_marks_the_unjudged(tmp_path: Path) -> None:
    _write(tmp_path, "table6", [claims.verdict_row("C7", "13.9 vs 14.4", PARTLY)], "pushbot")
    _write(tmp_path, "table7", [claims.verdict_row("C6", "x", REPRODUCED)], "shapes")
    _write(tmp_path, "table1", [claims.verdict_row("C6", "y", PARTLY)], "shapes")
    table = summary.collect(tmp_path)
    assert list(dict.fromkeys(table["claim"])) == list(claims.CLAIMS)  # every claim, in registry order
    assert (table.loc[table["claim"] == "C7", "verdict"] == PARTLY).all()
    assert (table.loc[table["claim"] == "C1", "verdict"] == summary.NO_RESULT).all()
    assert len(table[table["claim"] == "C6"]) == 2
    grid = summary.matrix({"cpu": table})
    # two rows in one cell disagree: both shown, in file order (claims_table1 before claims_table7)
    assert grid.loc["C6", "cpu: shapes"] == f"{PARTLY} / {REPRODUCED}"
    assert grid.loc["C7", "cpu: pushbot"] == PARTLY and grid.loc["C7", "cpu: shapes"] == ""
    counts = summary.verdict_counts(table)
    assert counts[PARTLY] == 2 and counts[REPRODUCED] == 1 and counts[summary.NO_RESULT] == len(claims.CLAIMS) - 2


def test_replace_block_rewrites_only_between_the_markers() -> None:
    text = f"head\n{summary.BEGIN}\nold\n{summary.END}\ntail\n"
    out = summary.replace_block(text, "new")
    assert out == f"head\n{summary.BEGIN}\nnew\n{summary.END}\ntail\n"
    assert summary.current_block(out) == "new"
    with pytest.raises(ValueError, match="exactly one"):
        summary.replace_block("no markers", "new")
    with pytest.raises(ValueError, match="exactly one"):
        summary.replace_block(text + summary.BEGIN, "new")


def test_readme_and_details_blocks_match_the_committed_claims_csvs() -> None:
    """The README's claims matrix and docs/results.md's numbers are generated (`make readme`): they must say what the
    committed results/claims.csv (and results/gpu/claims.csv, when there) say."""
    tables = summary.committed_tables()
    assert "cpu" in tables
    folders = {p: summary.committed_folder_name(p) for p in tables}
    assert folders["cpu"] == "results"
    expected = summary.readme_block(tables, folders=folders)
    assert summary.current_block((REPO / "README.md").read_text()) == expected, "README.md is stale: make readme"
    details = summary.current_block((REPO / "docs" / "results.md").read_text())
    assert details == summary.details_block(tables, folders), "docs/results.md is stale: run `make readme`"


def test_readme_matrix_puts_profiles_side_by_side(tmp_path: Path) -> None:
    cpu, gpu = tmp_path / "cpu", tmp_path / "gpu"
    cpu.mkdir()
    gpu.mkdir()
    _write(cpu, "table6", [claims.verdict_row("C7", "13.9 vs 14.4", PARTLY)], "pushbot")
    _write(gpu, "table6", [claims.verdict_row("C7", "12 vs 14", REPRODUCED)], "pushbot")
    _write(gpu, "table7", [claims.verdict_row("C4", "x", REPRODUCED)], "shapes")
    tables = {"cpu": summary.collect(cpu), "gpu": summary.collect(gpu)}
    block = summary.readme_matrix(tables, {"cpu": "results", "gpu": "results/gpu"})
    lines = block.splitlines()
    assert lines[0].startswith("| claim | stand-in | paper | cpu | gpu | evidence |")
    c7 = next(line for line in lines if line.startswith("| C7:") and "| pushbot |" in line)
    assert f"**{PARTLY}**" in c7 and f"**{REPRODUCED}**" in c7
    c4 = next(line for line in lines if line.startswith("| C4:") and "| shapes |" in line)
    assert c4.count("**") == 2 and "| - |" in c4  # cpu has no C4 row on shapes (its "no result yet" row has none)
    assert [line.split("|")[1].split(":")[0].strip() for line in lines[2:]] == sorted(
        [line.split("|")[1].split(":")[0].strip() for line in lines[2:]], key=lambda c: list(claims.CLAIMS).index(c))


def test_readme_rows_link_each_claims_notebook() -> None:
    table = summary.collect(REPO / "results")
    block = summary.readme_table(table)
    for cid in claims.CLAIMS:
        for nb in claims.get(cid).notebook.split(","):
            assert f"notebooks/{nb.strip()}.ipynb" in block


def test_every_figure_the_readme_links_is_one_its_notebook_saves():
    """FIGURES names the file a notebook writes (``save_figure(fig, "<stem>")``): a renamed figure breaks the link."""
    for notebook, stem in summary.FIGURES.items():
        source = (REPO / "notebooks" / f"{notebook}.ipynb").read_text()
        head = stem.rsplit("_", 1)[0]  # f"07_table2_{dataset}" saves 07_table2_pushbot
        assert f'\\"{stem}\\"' in source or f"{head}_{{" in source, f"{notebook} saves no figure {stem!r}"
