"""The null test of the verdict rule on real models: seed 0 judged against seed 1 of the same recipe.

Two training seeds of one row are two draws of the same method. Judged against each other with the rule the claims
use (``verdicts.judge`` on the paired bootstrap of the difference, ``magvit.metrics.paired``), a calibrated rule calls
a difference ("reproduced" or "not reproduced") in at most about 1 row in 20 (its 95% intervals). Each side rests on
one seed, as a verdict on one training seed would: the bootstrap then resamples clips only and cannot see the
seed-to-seed variation, which is what this test measures on the study's own models (in a simulation of models that
differ by seed, judged the same way, 23% of rows were called different at one seed per row and 2% at two).

Every table notebook passes its paired features (real clips' features and one ``RowFeatures`` per row) to
:func:`seed_null`, writes them with :func:`write_part`, and notebook 12 gathers the parts (:func:`gather`) into
``results/verdicts_seed_null.csv``, reports :func:`false_call_rate` in words (:func:`statement`) and draws each row's
interval around 0 (:func:`figure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from magvit.experiments.resolving_power import accuracy_interval
from magvit.experiments.verdicts import NOT_TESTABLE, judge
from magvit.infra import results
from magvit.metrics.paired import RowFeatures, choose_distance, paired_difference

TABLE = "verdicts_seed_null"
PART = "verdicts_seed_null_"  # + the table's name: one CSV per table notebook, gathered by notebook 12
COLUMNS = ("table", "row", "benchmark", "distance", "difference", "difference_low", "difference_high", "verdict")
DIFFERENCE = ("difference", "difference_low", "difference_high")
ALLOWED = 0.05  # the false calls a calibrated rule allows: about 1 row in 20 (95% intervals)


def seed_null(table: str, benchmark: str, real: np.ndarray | Mapping[str, np.ndarray],
              rows: Mapping[str, RowFeatures], num_bootstrap: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One line per row of ``rows`` with at least two training seeds: seed 0 against seed 1 (``difference`` =
    D(seed 1) - D(seed 0), positive when seed 0 is closer to the real clips), in the distance the verdicts use at
    this clip count (KVD below ~10 clips per feature, else FVD), and the rule's verdict on it. Rows of one seed are
    left out (nothing to compare)."""
    out = []
    for name, row in rows.items():
        if not isinstance(row, RowFeatures):
            raise TypeError(f"row {name!r}: expected RowFeatures, got {type(row).__name__}")
        if len(row.per_seed) < 2:
            continue
        first, second = RowFeatures((row.per_seed[0],)), RowFeatures((row.per_seed[1],))
        distance = choose_distance(*np.shape(next(iter(row.per_seed[0].values()))))
        diff = paired_difference(real, first, second, distance, num_bootstrap, seed)
        out.append({"table": table, "row": name, "benchmark": benchmark, "distance": distance,
                    "difference": diff.value, "difference_low": diff.low, "difference_high": diff.high,
                    "verdict": judge(diff).verdict})
    # float columns even when no row has two seeds, so that parts concatenate (and round) as numbers
    return pd.DataFrame(out, columns=list(COLUMNS)).astype(dict.fromkeys(DIFFERENCE, float))


def write_part(df: pd.DataFrame, table: str, profile: str, seeds: tuple[int, ...], device: str = "cpu") -> Path:
    """``<results>/verdicts_seed_null_<table>.csv`` (provenance columns added by ``results.write_table``)."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"seed-null table lacks column(s) {missing}; make it with seed_null()")
    return results.write_table(df, f"{PART}{table}", profile=profile, seeds=seeds, device=device)


def gather(folder: str | Path) -> pd.DataFrame:
    """Every ``verdicts_seed_null_<table>.csv`` of ``folder``, concatenated in :data:`COLUMNS` (empty if none)."""
    parts = [pd.read_csv(path) for path in sorted(Path(folder).glob(f"{PART}*.csv"))]
    parts = [p[list(COLUMNS)] for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(COLUMNS))


def false_call_rate(df: pd.DataFrame) -> dict[str, float]:
    """How often the rule called a difference between two seeds of one recipe: ``calls`` of ``rows``, the ``rate``
    with its 95% Wilson interval (``low``, ``high``). A calibrated rule: about 0.05 or less."""
    if not len(df):
        raise ValueError("no row with two training seeds was judged: the null test needs rows of two seeds")
    called = (df["verdict"] != NOT_TESTABLE).to_numpy()
    low, high = accuracy_interval(called)
    return {"rows": int(len(called)), "calls": int(called.sum()), "rate": float(called.mean()), "low": low,
            "high": high}


def statement(df: pd.DataFrame) -> str:
    """:func:`false_call_rate` of ``df`` (:func:`gather`'s table) as a sentence, read against the ~1 in 20 a calibrated
    rule allows; where ``df`` is empty, that no row of two training seeds was judged (a profile of one seed per row,
    or table notebooks not run yet)."""
    if not len(df):
        return ("No table notebook judged a row of two training seeds in this results folder (a profile that trains "
                "one seed per row, as `smoke`, has none; or notebooks 06-09 have not run yet): the null test has "
                "nothing to judge here.")
    r = false_call_rate(df)
    if r["low"] > ALLOWED:
        reading = ("more often than a calibrated rule would: an interval over clips alone misses the seed-to-seed "
                   "variation of these models, so a verdict on one training seed per row would call differences "
                   "that are training noise")
    elif r["rate"] > ALLOWED:
        reading = (f"more often than 1 in 20 in this run, but {r['rows']} rows cannot tell that from a calibrated "
                   f"rule (the interval includes {ALLOWED:.0%})")
    else:
        reading = "no more often than a calibrated rule allows"
        if r["high"] > ALLOWED:
            reading += f" (though {r['rows']} rows cannot rule out a rate of up to {r['high']:.0%})"
    return (f"Judged against seed 1 of its own recipe, seed 0 was called different in {r['calls']} of {r['rows']} "
            f"rows ({r['rate']:.0%}, 95% Wilson interval {r['low']:.0%} to {r['high']:.0%}), against the at most "
            f"about 1 in 20 ({ALLOWED:.0%}) a calibrated rule allows: {reading}.")


def figure(df: pd.DataFrame) -> Figure:
    """Each row of ``df`` (:func:`gather`'s table) as its difference with its 95% interval, scaled by the interval's
    half-width (rows of different benchmarks and distances on one axis; the sign and the position of 0 are kept), a
    call (the interval misses 0) in red."""
    if not len(df):
        raise ValueError("no row to draw: the null test needs rows of two training seeds")
    value, low, high = (df[c].to_numpy(dtype=float) for c in DIFFERENCE)
    half = (high - low) / 2
    half = np.where(half > 0, half, 1.0)
    called = (df["verdict"] != NOT_TESTABLE).to_numpy()
    y = np.arange(len(df))[::-1]
    height = 1.9 + 0.28 * len(df)
    fig, ax = plt.subplots(figsize=(7.5, height))
    lower, upper = (value - low) / half, (high - value) / half
    for mask, colour, label in ((~called, "#8a8a8a", "not testable here (as it should be)"),
                                (called, "#c0392b", "a difference called (a false call)")):
        if mask.any():
            ax.errorbar(value[mask] / half[mask], y[mask], xerr=[lower[mask], upper[mask]], fmt="o", ms=3, capsize=2,
                        color=colour, label=label)
    ax.axvline(0, color="black", lw=0.8)
    reach = float(np.max(np.abs(np.concatenate([value / half - lower, value / half + upper]))))
    ax.set_xlim(-1.1 * max(reach, 1.5), 1.1 * max(reach, 1.5))
    ax.set_yticks(y, [f"{r.table} · {r.benchmark} · {r.row} ({r.distance.upper()})" for r in df.itertuples()],
                  fontsize=7)
    ax.set_xlabel("(D(seed 1) - D(seed 0)) / half-width of its 95% interval", fontsize=8)
    ax.set_title("the verdict rule on seed 0 against seed 1 of one recipe\n(a bar that misses 0 is a call)", fontsize=9)
    fig.legend(loc="lower center", ncol=2, fontsize=7, frameon=False)
    ax.set_ylim(-0.6, len(df) - 0.4)
    fig.tight_layout(rect=(0, 0.3 / height, 1, 1))
    return fig
