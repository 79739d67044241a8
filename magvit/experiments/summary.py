"""The study's verdict (notebook 12): every claim of the registry beside our verdicts, as a table, a figure, a
computed narrative, and the README's results section (``make readme``).

The input is the union of the notebooks' ``claims_*.csv`` of one profile (``claims.collect``); a claim that no
notebook has judged yet appears as :data:`NO_RESULT`, never as a verdict.

    python -m magvit.experiments.summary [--readme README.md] [--details docs/results.md]  # rewrite both blocks
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from magvit.experiments import claims
from magvit.experiments.verdicts import NOT_REPRODUCED, NOT_TESTABLE, PARTLY, REPRODUCED
from magvit.infra.paths import committed_results_dir

NO_RESULT = "no result yet"
COLOURS = {REPRODUCED: "#4c9a2a", PARTLY: "#e0b000", NOT_REPRODUCED: "#c0392b", NOT_TESTABLE: "#8a8a8a",
           NO_RESULT: "#ffffff"}
BEGIN, END = "<!-- claims:begin (make readme) -->", "<!-- claims:end -->"
# the figure a reader should look at for each notebook's claims (file stem in <results>/figures)
FIGURES = {"05_decoding": "05_table6_fvd", "10_table7": "10_table7_fvd", "11_figure5": "11_figure5",
           "06_table1": "06_table1_fvd", "07_tables2_3": "07_table2_pushbot", "08_table4": "08_table4_average",
           "09_table5": "09_table5_fp"}
# What this machine cannot test at all, and what it would take (the tables' stand-ins are stated per row)
OUT_OF_REACH = [
    ("FVD and IS on the real datasets (every table)", "UCF-101, BAIR, Kinetics-600 and SSv2 (no internet here), "
     "the I3D weights of TF-Hub for FVD and the C3D weights for IS; the loaders exist (magvit.data.real, "
     "magvit.metrics.i3d) and are tested on files in the same formats"),
    ("LPIPS (Tab. 3)", "the AlexNet/VGG weights of the lpips package, which cannot be downloaded or installed here"),
    ("The paper's scale (MAGVIT-B/L, 128x128, 10^5 steps)", "the `paper` profile on 8+ GPUs with torchrun "
     "(README, Scale-out); here at most one GPU is lent now and then"),
    ("Absolute numbers of the paper", "only orderings and ratios are comparable: our models are 10^2-10^3 times "
     "smaller and see procedurally generated stand-ins, so FVD (proxy) is on another scale than FVD (I3D)"),
]


def collect(folder: str | Path) -> pd.DataFrame:
    """Every registered claim with our verdict rows from ``folder``; claims with none get one :data:`NO_RESULT` row."""
    ours = claims.collect(folder)
    for column in claims.COLUMNS:  # claims_*.csv written before the schema had benchmark, difference or reason
        if column not in ours.columns:
            ours[column] = ""
    text = [c for c in claims.COLUMNS if c not in claims.DIFFERENCE]
    ours[text] = ours[text].fillna("").astype(str)
    missing = [cid for cid in claims.CLAIMS if cid not in set(ours["claim"])]
    empty = [{**claims.verdict_row(cid, "", NOT_TESTABLE), "verdict": NO_RESULT} for cid in missing]
    table = pd.concat([ours, pd.DataFrame(empty, columns=list(claims.COLUMNS))], ignore_index=True)
    for column in claims.DIFFERENCE:  # numbers where the row is one comparison, else empty
        table[column] = pd.to_numeric(table[column].replace("", None), errors="coerce")
    order = {cid: i for i, cid in enumerate(claims.CLAIMS)}
    table = table.sort_values("claim", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return table[[c for c in claims.COLUMNS if c in table.columns]]


def by_profile(profile: str, folder: str | Path, others: tuple[str, ...] = ("cpu", "gpu")) -> dict[str, pd.DataFrame]:
    """``profile``'s claims from ``folder``, and beside them those of the ``others`` whose committed results folder
    holds verdicts (e.g. the `gpu` run when a GPU was lent), for the side-by-side matrix."""
    tables = {profile: collect(folder)}
    for other in others:
        path = committed_results_dir(other)
        if other != profile and path.is_dir() and not claims.collect(path).empty:
            tables[other] = collect(path)
    return tables


def verdict_counts(table: pd.DataFrame) -> pd.Series:
    """How many (claim, benchmark) rows got each verdict."""
    return table["verdict"].value_counts().reindex([*COLOURS], fill_value=0)


def matrix(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Claims x (profile, benchmark): the verdict of each cell ('' where that setting has no row)."""
    cols = {}
    for profile, table in tables.items():
        for bench, rows in table.groupby(table["benchmark"].replace("", "-"), sort=True):
            cols[f"{profile}: {bench}"] = rows.groupby("claim")["verdict"].agg(
                lambda v: v.iloc[0] if v.nunique() == 1 else " / ".join(v))
    out = pd.DataFrame(cols).reindex(list(claims.CLAIMS)).fillna("")
    return out


def matrix_figure(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """The claims x settings matrix coloured by verdict (white: no result yet in that setting)."""
    grid = matrix(tables)
    fig, ax = plt.subplots(figsize=(1.6 + 1.9 * max(1, grid.shape[1]), 0.45 * len(grid) + 1.4))
    for i, cid in enumerate(grid.index):
        for j, col in enumerate(grid.columns):
            verdict = grid.loc[cid, col]
            colour = COLOURS.get(verdict, "#f5f5f5") if verdict else "#f5f5f5"
            ax.add_patch(plt.Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="white"))
            ax.text(j + 0.5, i + 0.5, verdict.replace("not testable here", "not testable"), ha="center",
                    va="center", fontsize=7, color="black" if colour in ("#e0b000", "#f5f5f5", "#ffffff") else "white")
    ax.set_xlim(0, grid.shape[1])
    ax.set_ylim(len(grid), 0)
    ax.set_xticks([j + 0.5 for j in range(grid.shape[1])], grid.columns, rotation=20, ha="right", fontsize=8)
    ax.set_yticks([i + 0.5 for i in range(len(grid))], grid.index, fontsize=8)
    ax.set_title("claims x settings, coloured by verdict")
    for side in ax.spines.values():
        side.set_visible(False)
    fig.tight_layout()
    return fig


def narrative(table: pd.DataFrame) -> str:
    """One markdown paragraph per claim, computed from the rows: the paper's number, ours, the verdict."""
    lines = []
    for cid, rows in table.groupby("claim", sort=False):
        claim = claims.get(cid)
        head = f"- **{cid}** ({claim.evidence}) *{claim.statement}*. Paper: {claim.paper or 'qualitative'}."
        if (rows["verdict"] == NO_RESULT).all():
            lines.append(f"{head} No notebook has judged it yet ({claim.notebook}).")
            continue
        parts = [f"on {r.benchmark or '-'}: **{r.verdict}** ({r.ours}"
                 + (f"; difference {difference_text(r)}" if difference_text(r) != "-" else "")
                 + (f"; {r.reason}" if getattr(r, "reason", "") else "") + ")" for r in rows.itertuples()]
        lines.append(f"{head} Ours " + "; ".join(parts) + ".")
    return "\n".join(lines)


def _link(notebook_ids: str, results_folder: str) -> str:
    links = []
    for nb in [n.strip() for n in notebook_ids.split(",") if n.strip()]:
        links.append(f"[{nb}](notebooks/{nb}.ipynb)")
        if nb in FIGURES:
            links.append(f"[fig]({results_folder}/figures/{FIGURES[nb]}.png)")
    return " ".join(links)


def difference_text(row: object) -> str:
    """The interval of the difference of a claims row as ``value [low, high]`` (paper's direction positive), or
    ``-`` where the row has none (not one comparison, or a claims.csv written before the columns existed)."""
    values = [getattr(row, c, None) for c in claims.DIFFERENCE]
    try:
        value, low, high = (float(v) for v in values)
    except (TypeError, ValueError):
        return "-"
    if any(pd.isna(v) for v in (value, low, high)):
        return "-"
    return f"{value:.3g} [{low:.3g}, {high:.3g}]"


def judged_on_differences(table: pd.DataFrame) -> bool:
    """Whether ``table`` (a claims.csv) carries the reasons and intervals of the difference; a claims.csv
    written before them keeps the README's earlier layout."""
    columns = [c for c in ("reason", *claims.DIFFERENCE) if c in table.columns]
    return any(table[c].replace("", None).notna().any() for c in columns)


def readme_table(table: pd.DataFrame, results_folder: str = "results") -> str:
    """The README's results table: one row per (claim, benchmark), linked to its notebook and figure; where the
    claims.csv has them, the verdict's reason and the interval of the difference behind it (paper's direction
    positive)."""
    new = judged_on_differences(table)
    if new:
        out = ["| claim | stand-in | paper | ours | verdict (reason) | difference (paper's direction +) | evidence |",
               "|---|---|---|---|---|---|---|"]
    else:
        out = ["| claim | stand-in | paper | ours | verdict | evidence |", "|---|---|---|---|---|---|"]
    for r in table.itertuples():
        claim = claims.get(r.claim)
        ours = str(r.ours).replace("|", "/") if isinstance(r.ours, str) else ""
        head = f"| {r.claim}: {claim.statement} | {r.benchmark or '-'} | {claim.paper or '-'} | {ours or '-'} | "
        if not new:
            out.append(f"{head}{r.verdict} | {_link(claim.notebook, results_folder)} |")
            continue
        reason = getattr(r, "reason", "")
        reason = str(reason).replace("|", "/") if isinstance(reason, str) and reason else ""
        verdict = f"{r.verdict} ({reason})" if reason else r.verdict
        out.append(f"{head}{verdict} | {difference_text(r)} | {_link(claim.notebook, results_folder)} |")
    return "\n".join(out)


def replace_block(text: str, block: str) -> str:
    """``text`` with everything between :data:`BEGIN` and :data:`END` replaced by ``block``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"the README needs exactly one {BEGIN!r} followed by one {END!r}")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{block}\n{END}{tail}"


def current_block(text: str) -> str:
    """What stands between the markers now (without the newlines next to them)."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"the README has no {BEGIN!r} ... {END!r} block")
    return text.split(BEGIN)[1].split(END)[0].strip("\n")


def verdict_cell(rows: pd.DataFrame) -> str:
    """One profile's verdict of one (claim, benchmark) for the README's matrix: the verdict, the interval of the
    difference where the row is one comparison, and the reason of a `not testable here` (rows joined by ` / `)."""
    cells = []
    for r in rows.itertuples():
        text = f"**{r.verdict}**"
        if difference_text(r) != "-":
            text += f" {difference_text(r)}"
        reason = getattr(r, "reason", "")
        if r.verdict == NOT_TESTABLE and isinstance(reason, str) and reason:
            text += f" ({reason.replace('|', '/')})"
        cells.append(text)
    return " / ".join(cells)


def readme_matrix(tables: dict[str, pd.DataFrame], folders: dict[str, str]) -> str:
    """The README's claims table: one row per (claim, stand-in), one column per profile (``tables``: profile ->
    ``collect`` of its results folder; ``folders``: profile -> that folder, relative to the README), each cell
    :func:`verdict_cell`; our numbers behind every cell are in ``docs/results.md`` (:func:`details_block`)."""
    profiles = list(tables)
    keys = []
    for table in tables.values():
        for r in table.itertuples():
            if (r.claim, r.benchmark) not in keys:
                keys.append((r.claim, r.benchmark))
    order = {cid: i for i, cid in enumerate(claims.CLAIMS)}
    keys.sort(key=lambda k: order[k[0]])
    out = [f"| claim | stand-in | paper | {' | '.join(profiles)} | evidence |",
           "|---|---|---|" + "---|" * len(profiles) + "---|"]
    for cid, bench in keys:
        claim = claims.get(cid)
        cells = []
        for profile in profiles:
            table = tables[profile]
            rows = table[(table["claim"] == cid) & (table["benchmark"] == bench)]
            cells.append(verdict_cell(rows) if not rows.empty else "-")
        links = _link(claim.notebook, folders[profiles[0]])
        out.append(f"| {cid}: {claim.statement} | {bench or '-'} | {claim.paper or '-'} | {' | '.join(cells)} | "
                   f"{links} |")
    return "\n".join(out)


def readme_block(tables: dict[str, pd.DataFrame] | pd.DataFrame, profile: str | None = None,
                 results_folder: str = "results", folders: dict[str, str] | None = None) -> str:
    """The text between the README's markers: with one profile's ``table``, its detailed table (:func:`readme_table`);
    with ``tables`` (profile -> table), the compact matrix of verdicts side by side (:func:`readme_matrix`)."""
    if isinstance(tables, pd.DataFrame):
        table = tables
        counts = verdict_counts(table)
        tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        return (f"Generated by `make readme` from `{results_folder}/claims.csv` (profile `{profile}`; notebook 12 "
                f"shows the same with its figure). {tally}.\n\n{readme_table(table, results_folder)}")
    folders = folders or {p: committed_folder_name(p) for p in tables}
    tallies = "; ".join(f"`{p}` ({folders[p]}/claims.csv): "
                        + ", ".join(f"{n} {v}" for v, n in verdict_counts(t).items() if n) for p, t in tables.items())
    return (f"Generated by `make readme` from each profile's claims.csv ({tallies}). Each cell: the verdict, the "
            "interval of the difference behind it (paper's direction positive) and, where nothing could be judged, "
            "why. Our numbers behind every cell: `docs/results.md` (generated too); notebook 12 shows the same with "
            f"its figure.\n\n{readme_matrix(tables, folders)}")


def details_block(tables: dict[str, pd.DataFrame], folders: dict[str, str]) -> str:
    """``docs/results.md``'s generated section: per profile, the detailed table (our numbers, reason, difference)."""
    parts = []
    for profile, table in tables.items():
        folder = folders[profile]
        parts.append(f"### `{profile}` ({folder}/claims.csv)\n\n{readme_table(table, '../' + folder)}"
                     .replace("](notebooks/", "](../notebooks/"))
    return "\n\n".join(parts)


def committed_folder_name(profile: str) -> str:
    """A profile's committed results folder relative to the repository root (``results``, ``results/gpu``)."""
    return committed_results_dir(profile).relative_to(committed_results_dir("cpu").parent).as_posix()


def committed_tables(profiles: tuple[str, ...] = ("cpu", "gpu")) -> dict[str, pd.DataFrame]:
    """Each of ``profiles`` whose committed results folder has a ``claims.csv``: its table (read as written)."""
    tables = {}
    for profile in profiles:
        path = committed_results_dir(profile) / "claims.csv"
        if path.exists():
            tables[profile] = collect_csv(path)
    return tables


def collect_csv(path: Path) -> pd.DataFrame:
    """A written ``claims.csv`` in :func:`collect`'s layout (columns it lacks, from older runs, left empty)."""
    table = pd.read_csv(path, keep_default_na=False)
    for column in claims.COLUMNS:
        if column not in table.columns:
            table[column] = ""
    for column in claims.DIFFERENCE:
        table[column] = pd.to_numeric(table[column].replace("", None), errors="coerce")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default="README.md")
    parser.add_argument("--details", default="docs/results.md", help="the page with our numbers behind each verdict")
    args = parser.parse_args(argv)
    tables = committed_tables()
    if not tables:
        raise SystemExit("no committed claims.csv (results/claims.csv, results/gpu/claims.csv): run the study first")
    folders = {p: committed_folder_name(p) for p in tables}
    for path, block in ((Path(args.readme), readme_block(tables, folders=folders)),
                        (Path(args.details), details_block(tables, folders))):
        path.write_text(replace_block(path.read_text(), block))
        print(f"{path}: results block rewritten from {', '.join(f'{folders[p]}/claims.csv' for p in tables)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
