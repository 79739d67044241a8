"""The null test of the verdict rule on real models: seed 0 judged against seed 1 of the same recipe.

Two training seeds of one row are two draws of the same method. Judged against each other with the rule the claims
use (``verdicts.judge`` on the paired bootstrap of the difference, ``magvit.metrics.paired``), a calibrated rule calls
a difference ("reproduced" or "not reproduced") in at most about 1 row in 20 (its 95% intervals). Each side rests on
one seed, as a verdict on one training seed would: the bootstrap then resamples clips only and cannot see the
seed-to-seed variation, which is what this test measures on the study's own models (simulated models that differ by
seed gave 23% false calls at one seed per row, 2% at two: notebook 12's calibration).

Every table notebook passes its paired features (real clips' features and one ``RowFeatures`` per row) to
:func:`seed_null`, writes them with :func:`write_part`, and notebook 12 gathers the parts (:func:`gather`) into
``results/verdicts_seed_null.csv`` and reports :func:`false_call_rate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from magvit.experiments.resolving_power import accuracy_interval
from magvit.experiments.verdicts import NOT_TESTABLE, judge
from magvit.infra import results
from magvit.metrics.paired import RowFeatures, choose_distance, paired_difference

TABLE = "verdicts_seed_null"
PART = "verdicts_seed_null_"  # + the table's name: one CSV per table notebook, gathered by notebook 12
COLUMNS = ("table", "row", "benchmark", "distance", "difference", "difference_low", "difference_high", "verdict")


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
    return pd.DataFrame(out, columns=list(COLUMNS))


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
