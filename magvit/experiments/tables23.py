"""Tables 2 and 3 (frame prediction): ``pushbot`` from 1 frame (BAIR) and ``scenes`` from 5 frames (Kinetics-600).

Paper Sec. 4.2, Tab. 2 (FVD, mean +- std over 4 runs) and Tab. 3 (BAIR image quality: FVD, PSNR, SSIM, LPIPS of
MAGVIT-L-FP). The official code (``videogvt/configs/maskgvt_bair_config.py``, ``train_lib/eval_utils.py``,
``train_lib/image_quality_metrics.py``) computes PSNR and SSIM per frame on every frame of the generated clip against
the real clip (the condition frame included, as the model re-generates it), averages over the frames of a clip,
then over the clips of each of the 4 repeats, and reports the mean +- std over repeats; SSIM on grayscale frames
(Gaussian window 11, sigma 1.5). A best-of-N option (``ssim_psnr_max_in_repeats``: the best of the repeats'
samples per clip) exists but is off in the released BAIR config, so this study reports the mean, one sample per
clip, over :attr:`~magvit.config.TablesConfig.fvd_groups` disjoint groups of clips (our "repeats"), and also on the
predicted frames alone. LPIPS needs weights that cannot be had here (``magvit.metrics.LPIPS_NA``).

Models: MAGVIT (COMMIT) B and L and an AR transformer of the B size, each from
``magvit.generative.train.get_transformer`` (``cond_frames`` 1 or 5), evaluated by ``magvit.generative.sample``.
Row helpers and the seed rule are shared with Table 1 (``magvit.experiments.table1``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from magvit.experiments import claims, paper
from magvit.experiments.table1 import Paired, Row, across_outcome, fvd_estimates, pair_of, show
from magvit.experiments.verdicts import NOT_TESTABLE
from magvit.generative.tasks import condition_video
from magvit.metrics import LPIPS_NA, psnr, ssim

TABLE2 = "table2_frame_prediction"
TABLE3 = "table3_bair_image_quality"


@dataclass(frozen=True)
class Benchmark:
    """A frame-prediction benchmark of Table 2: the dataset it plays, its condition frames, its paper column."""

    plays: str
    cond_frames: int
    paper_column: str  # the FVD column of results/paper/table2_frame_prediction.csv


BENCHMARKS = {
    "pushbot": Benchmark("BAIR", 1, "bair_fvd"),
    "scenes": Benchmark("Kinetics-600", 5, "k600_fvd"),
}

ROWS = {
    "MAGVIT-B-FP": Row("commit", "B", "MAGVIT-B-FP"),
    "MAGVIT-L-FP": Row("commit", "L", "MAGVIT-L-FP"),
    "AR-B-FP": Row("ar", "B", None),
}


def check_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown frame-prediction benchmark {name!r}; Table 2 uses {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def per_clip_quality(real: torch.Tensor, fake: torch.Tensor, first_frame: int = 0) -> pd.DataFrame:
    """PSNR and SSIM (``magvit.metrics``: per frame, averaged over the frames) of each clip, from frame
    ``first_frame`` on (0: every frame, as the official code; ``cond_frames``: the predicted frames alone)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and generated clips differ in shape: {tuple(real.shape)} vs {tuple(fake.shape)}")
    if not 0 <= first_frame < real.shape[2]:
        raise ValueError(f"first_frame must lie in [0, {real.shape[2]}), got {first_frame}")
    a, b = real[:, :, first_frame:], fake[:, :, first_frame:]
    return pd.DataFrame({"psnr": [psnr(a[i:i + 1], b[i:i + 1]) for i in range(len(a))],
                         "ssim": [ssim(a[i:i + 1], b[i:i + 1]) for i in range(len(a))]})


def grouped(values: np.ndarray, groups: int) -> tuple[float, float]:
    """Mean and std (ddof 0) over ``groups`` disjoint consecutive groups of per-clip values (the official
    ``_mean_and_std`` over repeats; a remainder that fills no group is left out)."""
    size = len(values) // groups if groups >= 1 else 0
    if size < 1:
        raise ValueError(f"{len(values)} clips cannot fill {groups} groups")
    means = np.asarray(values[:size * groups], dtype=float).reshape(groups, size).mean(1)
    return float(means.mean()), float(means.std())


def image_quality(real: torch.Tensor, fake: torch.Tensor, cond_frames: int, groups: int) -> dict:
    """Table 3's PSNR and SSIM of generated clips against the real clips they continue: the mean +- std over
    ``groups`` disjoint groups of clips (the official protocol), a 95% normal interval over clips, the same on the
    predicted frames alone (``*_future``), and LPIPS as unavailable."""
    every = per_clip_quality(real, fake)
    future = per_clip_quality(real, fake, cond_frames)
    out: dict = {}
    for metric in ("psnr", "ssim"):
        values = every[metric].to_numpy()
        half = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        mean, std = grouped(values, groups)
        out |= {metric: float(values.mean()), f"{metric}_low": float(values.mean() - half),
                f"{metric}_high": float(values.mean() + half), f"{metric}_group_mean": mean,
                f"{metric}_group_std": std, f"{metric}_future": float(future[metric].mean())}
    out["lpips"] = LPIPS_NA
    return out


def tables23_claims(table: pd.DataFrame, setting: str = "", resolvable: dict[str, bool | None] | None = None,
                    paired: dict[str, Paired] | None = None) -> pd.DataFrame:
    """Verdicts of C6 on Table 2 (``magvit.experiments.claims`` schema), one row per benchmark where both sizes were
    trained: MAGVIT-L-FP beats MAGVIT-B-FP on FVD (proxy), lower is better (``table1.across_outcome``: not testable
    with fewer than two seeds, else the three-outcome rule on the difference). ``table`` holds one row per
    (dataset, model, seed); ``resolvable`` / ``paired``: per benchmark, the evaluator's resolving power and the
    features for the paired bootstrap (``table1.paired_rows``; None: unknown / the rows' own intervals). One
    not-testable row over both benchmarks when no benchmark has an L model."""
    resolvable, paired = resolvable or {}, paired or {}
    rows_out = []
    for name in BENCHMARKS:
        rows = table[table["dataset"] == name]
        large, base = fvd_estimates(rows, "MAGVIT-L-FP"), fvd_estimates(rows, "MAGVIT-B-FP")
        if not large or not base:
            continue
        outcome = across_outcome(large, base, resolvable=resolvable.get(name),
                                 paired=pair_of(paired.get(name), "MAGVIT-L-FP", "MAGVIT-B-FP"))
        ours = f"FVD (proxy) per seed, L: {show(large)}; B: {show(base)}"
        rows_out.append(claims.verdict_row("C6", ours, outcome, setting, benchmark=name))
    if not rows_out:
        ours = "no benchmark has both an L and a B model in this run (the L models were not trained)"
        rows_out.append(claims.verdict_row("C6", ours, NOT_TESTABLE, setting, benchmark=", ".join(BENCHMARKS),
                                           reason="not measured: no L model was trained"))
    return claims.verdict_table(rows_out)


def summary(table: pd.DataFrame, columns: tuple[str, ...] = ("fvd",)) -> pd.DataFrame:
    """One row per (dataset, model): the mean and std over training seeds of each of ``columns``, the number of
    seeds, and the official-style FVD (mean +- std over groups) averaged over seeds."""
    agg = {"seeds": ("seed", "count"), "fvd_group_mean": ("fvd_group_mean", "mean"),
           "fvd_group_std": ("fvd_group_std", "mean")}
    for c in columns:
        agg |= {f"{c}_mean": (c, "mean"), f"{c}_seed_std": (c, "std")}
    return table.groupby(["dataset", "model"], sort=False).agg(**agg).reset_index()


def table2_side_by_side(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 2 as the paper prints it (every row), then our rows: one ``ours_<benchmark> FVD (proxy)`` column per
    stand-in (mean over seeds) beside its seed std, never in the paper's columns."""
    theirs = paper.table(TABLE2).rename(columns=lambda c: f"paper_{c}" if c != "method" else c)
    theirs.insert(0, "source", "paper (BAIR / Kinetics-600, FVD I3D)")
    mine = []
    for model, part in ours.groupby("model", sort=False):
        row = {"source": "ours (stand-ins, FVD (proxy))", "method": f"{model} (ours)"}
        for r in part.itertuples():
            plays = check_benchmark(r.dataset).plays
            row |= {f"ours_{r.dataset} ({plays}) FVD (proxy)": r.fvd_mean,
                    f"ours_{r.dataset} FVD seed std": r.fvd_seed_std, f"ours_{r.dataset} seeds": r.seeds}
        mine.append(row)
    return pd.concat([theirs, pd.DataFrame(mine)], ignore_index=True)


def table3_side_by_side(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 3 as the paper prints it, then our ``pushbot`` rows (from :func:`summary` with fvd, psnr, ssim), ours in
    ``ours_*`` columns; LPIPS as unavailable."""
    theirs = paper.table(TABLE3).rename(columns=lambda c: f"paper_{c}" if c != "method" else c)
    theirs.insert(0, "source", "paper (BAIR)")
    mine = pd.DataFrame({
        "source": "ours (pushbot)", "method": [f"{m} (ours)" for m in ours["model"]], "ours_seeds": ours["seeds"],
        "ours_FVD (proxy)": ours["fvd_mean"], "ours_PSNR": ours["psnr_mean"],
        "ours_PSNR seed std": ours["psnr_seed_std"],
        "ours_SSIM": ours["ssim_mean"], "ours_SSIM seed std": ours["ssim_seed_std"], "ours_LPIPS": LPIPS_NA,
    })
    return pd.concat([theirs, mine], ignore_index=True)


def prediction_strip(real: torch.Tensor, fakes: dict[str, torch.Tensor], cond_frames: int, clip: int = 0,
                     ) -> tuple[list[torch.Tensor], list[str]]:
    """The clips of a condition + prediction figure for ``plots.frame_grid``: the condition video V~ (the given
    frames, the last one repeated), each model's generated clip, and the truth, for clip ``clip`` of the batch."""
    if not 0 <= clip < real.shape[0]:
        raise ValueError(f"clip {clip} outside the batch of {real.shape[0]}")
    shown = real[clip:clip + 1]
    rows = [condition_video(shown, "FP", cond_frames)] + [f[clip:clip + 1] for f in fakes.values()] + [shown]
    labels = [f"condition ({cond_frames} fr.)"] + list(fakes) + ["truth"]
    return rows, labels
