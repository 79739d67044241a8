"""Re-judge a profile's committed claims under the rules of the difference's interval from its committed per-row tables.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/rejudge_claims.py [--profile cpu] [--folder results]

The ``claims_*.csv`` of the ``cpu`` profile were written by the point-estimate rules (run at commit 8acacaf); the
per-row tables they were judged from are committed beside them. This script reads those tables, rebuilds the
inputs each notebook (05-11) passes to its claims function, calls that function (the rules are the package's, none
is re-implemented here) and writes each ``claims_<table>.csv`` through ``results.write_table`` as the notebook
does, then ``claims.csv`` through ``study.write_claims``. The old run kept no per-clip features and did not measure
the instrument's resolving power, so every function is called with ``paired=None`` (each row's own interval) and
``resolvable=None``. Each row keeps the old run's ``setting`` (the same claim and benchmark's), extended by a note
that says so; the seeds and device are the ones the old claims rows carry. Table 7 at two budgets (half and full)
is judged with notebook 10's learning check as it wrote it (``table7_convergence.csv``), so that C4-C6 are the
notebook's (``not testable here`` where the tokenizers have not converged); a folder from before the two budgets has
no such check and is judged as before.

A claim whose function needs an input the committed tables do not hold keeps its old row (annotated, with its old
provenance): C11 needs the FVD (proxy) of the condition video through the tokenizer per task, with its interval
(notebook 08's ``table4.condition_reference_features``), which no committed table holds.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from magvit import profiles, study
from magvit.experiments import claims, figure5, table1, table4, table5, table6, table7, tables23
from magvit.infra import results
from magvit.infra.artifacts import git_commit
from magvit.infra.atomic import atomic_write_text
from magvit.infra.paths import results_dir

OLD_RUN = "8acacaf"


NOTE = "; verdict re-judged by benchmarks/rejudge_claims.py"
KEPT = "; verdict NOT re-judged"


def note(commit: str) -> str:
    return (f"{NOTE} at commit {commit} from the committed tables of the "
            f"{OLD_RUN} run under the interval rules (no per-clip features kept: each row's own interval; resolving "
            "power not measured then)")


def kept_note(why: str) -> str:
    return f"{KEPT} (point-estimate rules, {OLD_RUN} run): {why}, which the committed tables do not hold"


# the claims that cannot be re-judged from the committed tables, and the input they lack
C11_MISSING = ("table4.c11_claim needs the FVD (proxy) interval of each task's condition video encoded and decoded "
               "by the tokenizer (notebook 08's table4.condition_reference_features)")


def read(folder: Path, name: str) -> pd.DataFrame:
    """A committed per-row table without its provenance columns (as the notebook held it before writing)."""
    df = pd.read_csv(folder / f"{name}.csv")
    return df.drop(columns=[c for c in results.PROVENANCE if c in df.columns])


# each claims table: its function of (folder, profile) -> the new verdict rows (claims schema), and the claims of
# the old table that cannot be re-judged from the committed tables (kept as they were)
def _table6(folder: Path, p: profiles.Profile) -> pd.DataFrame:
    # each row is one training seed: C7 rests on one where the profile has more (as notebook 05 passes it)
    return table6.decoding_claims(read(folder, "table6_decoding"), resolvable=None, paired=None,
                                  required_seeds=len(p.seeds))


def _table1(folder: Path, p: profiles.Profile) -> pd.DataFrame:
    return table1.table1_claims(read(folder, "table1_class_conditional"), "", resolvable=None, paired=None)


def _table2_3(folder: Path, p: profiles.Profile) -> pd.DataFrame:
    table2 = read(folder, "table2_frame_prediction")
    return tables23.tables23_claims(table2, "", resolvable={d: None for d in set(table2.dataset)}, paired=None)


def _table4(folder: Path, p: profiles.Profile) -> pd.DataFrame:
    long = read(folder, "table4_multitask_tasks")
    benchmarks = set(long.benchmark)
    # C11 (table4.c11_claim) needs the condition-video references, which no committed table holds: not re-judged
    return claims.verdict_table([table4.c3_claim(long, len(p.seeds), resolvable={b: None for b in benchmarks},
                                                 paired=None)], "")


def _table5(folder: Path, p: profiles.Profile) -> pd.DataFrame:
    return table5.table5_claims(read(folder, "table5_commit_ablation_tasks"), len(p.seeds), "", resolvable=None,
                                paired=None)


def table7_convergence(folder: Path, table: pd.DataFrame) -> pd.DataFrame | None:
    """Notebook 10's learning check (``table7.convergence``) as it wrote it, with ``converged`` as booleans (what
    ``table7.table7_claims`` reads); None for a folder from before the two budgets (no ``budget`` column, no check).
    A two-budget table without its check is refused: judged without it, C4-C6 would not be the notebook's."""
    path = folder / "table7_convergence.csv"
    if not path.exists():
        if "budget" in table.columns:
            raise FileNotFoundError(f"{path.name} is missing beside a two-budget table7_tokenizer.csv: C4-C6 are "
                                    "judged only where the tokenizers converged (notebook 10 writes both)")
        return None
    check = pd.read_csv(path, keep_default_na=False, dtype={"claim": str, "reason": str, "converged": str})
    check = check.drop(columns=[c for c in results.PROVENANCE if c in check.columns])
    flags = check["converged"].str.strip().str.lower()
    if not flags.isin(["true", "false"]).all():
        raise ValueError(f"{path.name}: 'converged' must be True or False, got {sorted(set(check['converged']))}")
    return check.assign(converged=flags == "true")


def _table7(folder: Path, p: profiles.Profile) -> pd.DataFrame:
    table = read(folder, "table7_tokenizer")
    consistency = read(folder, "table7_padding_consistency")
    # notebook 10: the one-token stride of the 3D-VQ (the smallest shift measured)
    stride = consistency["shift_px"].min()
    return table7.table7_claims(table, consistency[consistency.shift_px == stride], "", resolvable=None,
                                paired=None, convergence=table7_convergence(folder, table))


def _figure5(folder: Path, p: profiles.Profile) -> pd.DataFrame:
    table = read(folder, "figure5_generation")
    res, batch = (128, 1) if p.figure5.paper_size else (p.figure5.resolutions[0], p.figure5.batches[0])
    return figure5.c8_claims(table, res, batch, p.data.num_frames, table["model"].iloc[0])


JUDGES: dict[str, tuple[Callable[[Path, profiles.Profile], pd.DataFrame], dict[str, str]]] = {
    "claims_table6": (_table6, {}),
    "claims_table1": (_table1, {}),
    "claims_table2_3": (_table2_3, {}),
    "claims_table4": (_table4, {"C11": C11_MISSING}),
    "claims_table5": (_table5, {}),
    "claims_table7": (_table7, {}),
    "claims_figure5": (_figure5, {}),
}


def bare(setting: str) -> str:
    """A setting without a note of this script (a second run does not stack them)."""
    for mark in (NOTE, KEPT):
        setting = setting.split(mark)[0]
    return setting


def old_setting(old: pd.DataFrame, claim: str, benchmark: str) -> str:
    """The old run's setting of the same claim and benchmark (else of the same claim, else the table's first)."""
    for mask in ((old.claim == claim) & (old.benchmark.astype(str) == str(benchmark)), old.claim == claim,
                 pd.Series(True, index=old.index)):
        if mask.any():
            return bare(str(old.loc[mask, "setting"].iloc[0]))
    return ""


def rejudge_table(folder: Path, name: str, profile: str, commit: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-judge one claims table in ``folder``; return (old table, new table) as written."""
    judge, kept = JUDGES[name]
    p = profiles.get(profile)
    old = pd.read_csv(folder / f"{name}.csv", keep_default_na=False, dtype=str)
    new = judge(folder, p)
    new["setting"] = [(s if s else old_setting(old, c, b)) + note(commit)
                      for s, c, b in zip(new["setting"], new["claim"], new["benchmark"], strict=True)]
    seeds = sorted({int(s) for cell in old["seeds"] for s in str(cell).split()})
    devices = set(old["device"])
    if len(devices) != 1:
        raise ValueError(f"{name}: the old rows carry several devices {sorted(devices)}")
    # write_table writes to results_dir(profile): point it at ``folder``
    previous = os.environ.get("MAGVIT_RESULTS")
    os.environ["MAGVIT_RESULTS"] = str(folder)
    try:
        path = results.write_table(new, name, profile=profile, seeds=seeds, device=devices.pop())
    finally:
        if previous is None:
            del os.environ["MAGVIT_RESULTS"]
        else:
            os.environ["MAGVIT_RESULTS"] = previous
    if kept:
        # the claims that cannot be re-judged keep their old row (and provenance), annotated
        written = pd.read_csv(path, keep_default_na=False, dtype=str)
        old_rows = old[old.claim.isin(kept)].copy()
        old_rows["setting"] = [bare(s) + kept_note(kept[c]) for s, c in zip(old_rows.setting, old_rows.claim,
                                                                               strict=True)]
        for row in old_rows.itertuples():
            print(f"{name}: {row.claim} ({row.benchmark}) NOT re-judged, old verdict {row.verdict!r} kept: "
                  f"{kept[row.claim]}, which the committed tables do not hold")
        written = pd.concat([written, old_rows.reindex(columns=written.columns, fill_value="")], ignore_index=True)
        atomic_write_text(path, written.to_csv(index=False))
    return old, pd.read_csv(path, keep_default_na=False, dtype=str)


def rejudge(folder: Path, profile: str = "cpu", commit: str | None = None) -> dict[str, tuple[pd.DataFrame,
                                                                                               pd.DataFrame]]:
    """Re-judge every claims table of ``folder`` that has one; then write ``claims.csv``."""
    commit = commit or git_commit()
    out = {}
    for name in JUDGES:
        if (folder / f"{name}.csv").exists():
            out[name] = rejudge_table(folder, name, profile, commit)
    study.write_claims(folder)
    return out


def show(tables: dict[str, tuple[pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """Old and new verdict per (claim, benchmark), with the new interval of the difference and reason."""
    rows = []
    for name, (old, new) in tables.items():
        for r in new.itertuples():
            before = old[(old.claim == r.claim) & (old.benchmark == r.benchmark)]
            rows.append({"table": name, "claim": r.claim, "benchmark": r.benchmark,
                         "old": "; ".join(before.verdict) if len(before) else "", "new": r.verdict,
                         "difference": (f"{float(r.difference):.3g} [{float(r.difference_low):.3g}, "
                                        f"{float(r.difference_high):.3g}]" if r.difference else ""),
                         "reason": r.reason})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--folder", type=Path, default=None, help="default: the profile's results folder")
    args = parser.parse_args(argv)
    folder = args.folder or results_dir(args.profile)
    tables = rejudge(folder, args.profile)
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(show(tables).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
