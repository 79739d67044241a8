"""Table 1 (class-conditional generation, UCF-101 -> the ``shapes`` stand-in) and the row helpers Tables 1-3 share.

Paper Sec. 4.2 and Tab. 1: MAGVIT-B-CG and MAGVIT-L-CG generate a 16-frame clip from a class token alone (the CG
task: task prompt + class token, no condition video; official ``videogvt/configs/maskgvt_ucf101_config.py``,
``train_lib/cond_utils.py``) and are judged by FVD (I3D) and IS (C3D) over 4 runs
(``train_lib/eval_utils.py``). Here the benchmark is ``shapes`` (12 motion classes), the metrics are FVD (proxy) and
IS (proxy) of the study's evaluator, and an AR transformer of the B size on the same tokens (``condition="ar"``,
class token as its prefix) is the baseline. The models come from ``magvit.generative.train.get_transformer`` and are
evaluated by ``magvit.generative.sample.evaluate``; this module turns the evaluations into table rows, holds the
real clips' ceiling row, the paper-vs-ours layout and the verdict of C6 on this table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from magvit import data
from magvit.config import Profile, TransformerConfig
from magvit.experiments import claims, paper
from magvit.experiments.verdicts import FEW_SEEDS, NOT_TESTABLE, UNPAIRED, Estimate, Outcome, combine, compare_rows
from magvit.generative.sample import ClipFeatures, Evaluation
from magvit.metrics import ProxyEvaluator, fvd, fvd_groups, inception_score, kvd
from magvit.metrics.paired import RowFeatures

DATASET = "shapes"
PAPER_TABLE = "table1_ucf101_class_conditional"
REAL = "real clips"  # the ceiling row
MIN_SEEDS = 2  # an ordering claim is judged on at least two training seeds (one seed's order is noise)


@dataclass(frozen=True)
class Row:
    """One model row of a table: how it is trained (``get_transformer``'s condition and size) and its paper twin."""

    condition: str  # "commit" (MAGVIT) or "ar"
    size: str  # "B" (the profile's transformer) or "L" (``P.tables.large``)
    paper_method: str | None  # the paper's row of the same name, or None (our baseline)


ROWS = {
    "MAGVIT-B-CG": Row("commit", "B", "MAGVIT-B-CG"),
    "MAGVIT-L-CG": Row("commit", "L", "MAGVIT-L-CG"),
    "AR-B-CG": Row("ar", "B", None),
}


def scaled_steps(cfg: TransformerConfig, fraction: float) -> TransformerConfig:
    """``cfg`` with ``fraction`` of its training steps (warm-up shrunk to fit); ``cfg`` itself at 1, so that a model
    trained at the full steps keeps its cache key. Above 1 it trains longer (the gpu profile's Table 1: class
    conditioning needs more steps than the other tasks)."""
    if not fraction > 0:
        raise ValueError(f"the steps fraction must be positive, got {fraction}")
    steps = max(2, int(round(cfg.steps * fraction)))
    if steps == cfg.steps:
        return cfg
    return replace(cfg, steps=steps, warmup_steps=min(cfg.warmup_steps, max(1, steps // 10)))


def size_config(profile: Profile, size: str, fraction: float = 1.0) -> TransformerConfig:
    """The transformer of size "B" (``profile.transformer``) or "L" (``profile.tables.large``) at ``fraction`` of its
    steps."""
    sizes = {"B": profile.transformer, "L": profile.tables.large}
    if size not in sizes:
        raise ValueError(f"unknown model size {size!r}; the tables use {', '.join(sizes)}")
    return scaled_steps(sizes[size], fraction)


def evaluation_row(model: str, seed: int, evaluation: Evaluation, train_steps: int) -> dict:
    """One (model, seed) row of a table from ``sample.evaluate``'s numbers: FVD (proxy) with its 95% bootstrap
    interval and as the official code reports it (mean +- std over disjoint groups), IS (proxy) mean +- std over its
    splits, the wall time per generated clip, and KVD (proxy) with its interval (the verdicts' distance)."""
    e = evaluation
    return {"model": model, "seed": seed, "train_steps": train_steps, "fvd": e.fvd, "fvd_low": e.fvd_low,
            "fvd_high": e.fvd_high, "fvd_group_mean": e.fvd_group_mean, "fvd_group_std": e.fvd_group_std,
            "fvd_groups": e.fvd_groups, "is_proxy": e.is_proxy, "is_proxy_std": e.is_proxy_std,
            "num_samples": e.num_samples, "decode_steps": e.decode_steps, "s_per_clip": e.s_per_clip,
            "kvd": e.kvd, "kvd_low": e.kvd_low, "kvd_high": e.kvd_high}


def real_row(evaluator: ProxyEvaluator, real: torch.Tensor, other: torch.Tensor, *, num_bootstrap: int,
             groups: int, seed: int = 0) -> dict:
    """The ceiling row: IS (proxy) of the real held-out clips that condition the generated ones, and the FVD (proxy)
    between them and as many other held-out real clips (the noise floor of the distance at this sample count).
    Nothing is trained or sampled, so its ``train_steps``, ``decode_steps`` and ``s_per_clip`` are 0."""
    if real.shape != other.shape:
        raise ValueError(f"the two real sets must have one shape, got {tuple(real.shape)} and {tuple(other.shape)}")
    feats, other_feats = evaluator.features(real), evaluator.features(other)
    est = fvd(other_feats, feats, num_bootstrap=num_bootstrap, seed=seed).estimate()
    kernel = kvd(other_feats, feats, num_bootstrap=num_bootstrap, seed=seed).estimate()
    group_mean, group_std = fvd_groups(other_feats, feats, groups) if groups else (math.nan, math.nan)
    is_mean, is_std = inception_score(evaluator.class_probs(real), splits=groups or min(10, len(real)))  # as evaluate
    return {"model": REAL, "seed": seed, "train_steps": 0, "fvd": float(est.value), "fvd_low": float(est.low),
            "fvd_high": float(est.high), "fvd_group_mean": group_mean, "fvd_group_std": group_std,
            "fvd_groups": groups, "is_proxy": float(is_mean), "is_proxy_std": float(is_std),
            "num_samples": len(real), "decode_steps": 0, "s_per_clip": 0.0, "kvd": kernel.value,
            "kvd_low": kernel.low, "kvd_high": kernel.high}


def fvd_estimates(table: pd.DataFrame, model: str) -> list[Estimate]:
    """FVD (proxy) of ``model`` per training seed, in seed order: value [95% bootstrap interval]."""
    rows = table[table["model"] == model].sort_values("seed")
    return [Estimate(r.fvd, r.fvd_low, r.fvd_high) for r in rows.itertuples()]


def is_splits(table: pd.DataFrame) -> np.ndarray:
    """The splits each row's IS (proxy) was computed over: its ``fvd_groups`` (``sample.evaluate`` and
    :func:`real_row` split the clips as the grouped FVD), or min(10, clips) where that is 0 or not recorded."""
    fallback = np.minimum(10, table["num_samples"].to_numpy())
    if "fvd_groups" not in table:
        return fallback
    groups = table["fvd_groups"].fillna(0).to_numpy(dtype=int)
    return np.where(groups > 0, groups, fallback)


def is_estimates(table: pd.DataFrame, model: str) -> list[Estimate]:
    """IS (proxy) of ``model`` per training seed: the mean over splits with a 95% normal interval,
    +- 1.96 std / sqrt(splits) (the splits are disjoint sets of samples, :func:`is_splits`)."""
    rows = table[table["model"] == model].sort_values("seed")
    splits = is_splits(rows)
    half = 1.96 * rows["is_proxy_std"].to_numpy() / np.sqrt(splits)
    return [Estimate(v, v - h, v + h) for v, h in zip(rows["is_proxy"], half, strict=True)]


def show(estimates: Iterable[Estimate], digits: int = 2) -> str:
    """Per-seed estimates as ``value [low, high]``, comma separated."""
    return ", ".join(f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]" for e in estimates)


def across_outcome(a: list[Estimate], b: list[Estimate], lower_is_better: bool = True,
                   resolvable: bool | None = None, paired: tuple | None = None) -> Outcome:
    """"a beats b" by the three-outcome rule on the difference over seeds (``verdicts.compare_rows``), but
    ``not testable here`` with fewer than :data:`MIN_SEEDS` seeds per row (one training run cannot separate the
    models from training noise)."""
    if len(a) < MIN_SEEDS or len(b) < MIN_SEEDS:
        return Outcome(NOT_TESTABLE, f"{FEW_SEEDS} (fewer than {MIN_SEEDS} per row)")
    basis = UNPAIRED if lower_is_better else "IS (proxy), from the rows' own intervals, unpaired"
    return compare_rows(a, b, lower_is_better, resolvable, paired, basis)


def across_seeds(a: list[Estimate], b: list[Estimate], lower_is_better: bool = True,
                 resolvable: bool | None = None) -> str:
    """:func:`across_outcome`'s verdict."""
    return across_outcome(a, b, lower_is_better, resolvable).verdict


# the paired bootstrap's input: the real clips' features and one ``RowFeatures`` per model name
Paired = tuple[np.ndarray, Mapping[str, RowFeatures]]


def paired_rows(features: Mapping[tuple[str, int], ClipFeatures]) -> Paired:
    """The paired bootstrap's input from the per-clip features of each (model name, seed) evaluation
    (``sample.clip_features``): the real clips' features (clips 0..n-1, the same for every row) and one
    ``RowFeatures`` per model, seeds in order."""
    if not features:
        raise ValueError("no features given")
    real = next(iter(features.values())).real
    rows: dict[str, dict[int, np.ndarray]] = {}
    for (name, seed), f in features.items():
        if f.real.shape != real.shape or not np.array_equal(f.real, real):
            raise ValueError(f"{name} seed {seed} was scored against other real clips")
        rows.setdefault(name, {})[seed] = f.fake
    return real, {name: RowFeatures.of(*(per_seed[s] for s in sorted(per_seed))) for name, per_seed in rows.items()}


def pair_of(paired: Paired | None, better: str, worse: str) -> tuple | None:
    """(real, better's ``RowFeatures``, worse's) for ``verdicts.compare_rows``, or None without features."""
    if paired is None:
        return None
    missing = [m for m in (better, worse) if m not in paired[1]]
    if missing:
        raise ValueError(f"the paired features lack {missing}")
    return paired[0], paired[1][better], paired[1][worse]


def table1_claims(table: pd.DataFrame, setting: str = "", resolvable: bool | None = None,
                  paired: Paired | None = None) -> pd.DataFrame:
    """Verdict of C6 on Table 1 (``magvit.experiments.claims`` schema): MAGVIT-L-CG beats MAGVIT-B-CG on FVD (proxy),
    lower is better, and on IS (proxy), higher is better, each by :func:`across_outcome`, combined by
    ``verdicts.combine`` (reproduced only when both are). ``resolvable``: the evaluator's resolving power on shapes
    (None: unknown); ``paired``: :func:`paired_rows` of the evaluations, for the paired bootstrap of the distance
    part (None: from the rows' own intervals)."""
    large, base = "MAGVIT-L-CG", "MAGVIT-B-CG"
    fvd_l, fvd_b = fvd_estimates(table, large), fvd_estimates(table, base)
    is_l, is_b = is_estimates(table, large), is_estimates(table, base)
    parts = [across_outcome(fvd_l, fvd_b, resolvable=resolvable, paired=pair_of(paired, large, base)),
             across_outcome(is_l, is_b, lower_is_better=False, resolvable=resolvable)]
    ours = (f"FVD (proxy) per seed, L: {show(fvd_l)}; B: {show(fvd_b)}. IS (proxy) per seed, L: {show(is_l)}; "
            f"B: {show(is_b)}. Parts (FVD, IS): {', '.join(p.verdict for p in parts)}")
    if min(len(fvd_l), len(fvd_b)) < MIN_SEEDS:
        ours += f" (fewer than {MIN_SEEDS} training seeds per row: not testable)"
    outcome = combine(parts, ["FVD", "IS"])
    return claims.verdict_table([claims.verdict_row("C6", ours, outcome)], setting, benchmark=DATASET)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model: mean and std over training seeds of FVD (proxy) and IS (proxy), the per-seed values, and
    the official-style FVD (mean +- std over groups) averaged over seeds."""
    def per_seed(values: pd.Series) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    return (table.sort_values("seed").groupby("model", sort=False)
            .agg(seeds=("seed", "count"), fvd_mean=("fvd", "mean"), fvd_seed_std=("fvd", "std"),
                 fvd_per_seed=("fvd", per_seed), fvd_group_mean=("fvd_group_mean", "mean"),
                 fvd_group_std=("fvd_group_std", "mean"), is_mean=("is_proxy", "mean"),
                 is_seed_std=("is_proxy", "std"), is_per_seed=("is_proxy", per_seed))
            .reset_index())


def side_by_side(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as the paper prints it, every row of it, then our rows (from :func:`summary`) below: the paper's
    numbers in ``paper_*`` columns, ours in ``ours_*`` columns, never one column for both."""
    theirs = paper.table(PAPER_TABLE).rename(columns={"fvd": "paper_FVD", "fvd_std": "paper_FVD_std",
                                                      "is": "paper_IS", "is_std": "paper_IS_std"})
    theirs.insert(0, "source", "paper (UCF-101, FVD I3D, IS C3D)")
    mine = pd.DataFrame({
        "source": "ours (shapes, FVD (proxy), IS (proxy))",
        "method": [f"{m} (ours)" if m != REAL else "real held-out clips (ceiling)" for m in ours["model"]],
        "class_conditional": "yes",
        "ours_seeds": ours["seeds"],
        "ours_FVD (proxy)": ours["fvd_mean"],
        "ours_FVD seed std": ours["fvd_seed_std"],
        "ours_FVD group mean": ours["fvd_group_mean"],
        "ours_FVD group std": ours["fvd_group_std"],
        "ours_IS (proxy)": ours["is_mean"],
        "ours_IS seed std": ours["is_seed_std"],
    })
    return pd.concat([theirs, mine], ignore_index=True)


def paper_number(method: str | None, column: str, name: str = PAPER_TABLE) -> float:
    """The paper's ``column`` for ``method`` (NaN for a row the paper does not have: our baselines, the ceiling)."""
    if method is None:
        return math.nan
    theirs = paper.table(name)
    match = theirs[theirs["method"] == method]
    if match.empty:
        raise KeyError(f"the paper's {name} has no row {method!r}")
    return float(match[column].iloc[0])


def class_examples(fake: torch.Tensor, labels: torch.Tensor, per_class: int = 1,
                   ) -> tuple[list[torch.Tensor], list[str]]:
    """Up to ``per_class`` generated clips of every ``shapes`` class that occurs in ``labels`` (the classes the clips
    were conditioned on), in class order, with row labels naming the class: for ``plots.frame_grid``."""
    if fake.shape[0] != labels.shape[0]:
        raise ValueError(f"{fake.shape[0]} clips but {labels.shape[0]} labels")
    clips, names = [], []
    for cls, name in enumerate(data.SHAPES_CLASSES):
        index = torch.nonzero(labels == cls).flatten()[:per_class]
        for i in index.tolist():
            clips.append(fake[i:i + 1])
            names.append(name)
    return clips, names


def held_out_labels(profile: Profile, num: int, split: str = "test") -> torch.Tensor:
    """The class labels of held-out ``shapes`` clips ``0..num-1``: the classes ``sample.evaluate`` conditions CG on."""
    ds = data.load(DATASET, split, profile.data.num_frames, profile.data.resolution)
    _, labels = data.get_batch(ds, range(num))
    return labels["label"]
