"""Table 5 (comparison of conditional masked token modeling on BAIR FP and MT8 -> ``pushbot``): claims C1 and C2.

Paper Sec. 4.5 and Tab. 5: latent masking as in MaskGIT, prefix condition (FP only: the paper could not train it
multi-task), and COMMIT trained on L_mask, L_mask + L_recons, and the full L_mask + L_recons + L_refine (Eq. 4),
each on frame prediction (FP) and on the eight BAIR tasks (MT8), judged by FVD. The official code's switches are
``condition_mode`` and ``weight_mode`` (``videogvt/train_lib/mask_utils.py``, ``videogvt/trainers/maskgvt_trainer.py``).

Which loss the baselines train on: the paper's table lists L_mask for both, and L_mask is MaskGIT's own objective
(Eq. 1); ``MaskedVideoModel.training_losses`` trains the latent-masking and prefix baselines on L_mask whatever the
``losses`` field says. We pass them the default ``losses`` so that their cache key is notebook 05's (its MaskGIT
3D-VQ row is this table's latent-masking FP row). The official code's default ``weight_mode`` (mask + refine +
recons) would add L_recons on the unmasked maskable tokens; the paper's table does not, and neither do we.

The MT8 column is the mean over the eight tasks of the per-task FVD (proxy) (Tab. 4's average: Tab. 5's full COMMIT
MT8 number, 33, is Tab. 4's MAGVIT-B-MT average, 32.8), with the interval of ``table4.average``. The full-COMMIT rows
are Table 4's MAGVIT-B-FP (FP column) and MAGVIT-B-MT (MT8 column) models, and their clips come from the same cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from magvit.config import Profile
from magvit.experiments import claims
from magvit.experiments.table4 import average, show
from magvit.experiments.verdicts import (
    UNPAIRED,
    Estimate,
    Outcome,
    cap_seeds,
    combine,
    compare_features,
    compare_rows,
    contrast_across_seeds,
    judge,
    with_basis,
)
from magvit.generative.model import MaskedVideoModel
from magvit.generative.sample import ClipFeatures
from magvit.generative.tasks import MT8
from magvit.generative.train import get_transformer
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.metrics.paired import RowFeatures, choose_distance, contrast

FULL = "mask+recons+refine"
COLUMN_TASKS: dict[str, tuple[str, ...]] = {"FP": ("FP",), "MT8": MT8}


@dataclass(frozen=True)
class Row:
    """One row of Table 5: how it trains (``condition``, ``losses`` as ``get_transformer`` takes them), the paper's
    name for it (``method``, ``paper_losses``: the keys of results/paper/table5_conditional_mtm.csv) and the columns
    the paper reports it on."""

    key: str
    method: str
    paper_losses: str
    condition: str
    losses: str
    columns: tuple[str, ...] = ("FP", "MT8")


ROWS: tuple[Row, ...] = (
    Row("latent", "Latent masking (MaskGIT)", "Lmask", "latent", FULL),  # trains on L_mask (see module docstring)
    Row("prefix", "Prefix condition", "Lmask", "prefix", FULL, ("FP",)),
    Row("mask", "COMMIT", "Lmask", "commit", "mask"),
    Row("mask+recons", "COMMIT", "Lmask+Lrecons", "commit", "mask+recons"),
    Row("full", "COMMIT", "Lmask+Lrecons+Lrefine", "commit", FULL),
)
ROW = {r.key: r for r in ROWS}


def get_row(key: str) -> Row:
    if key not in ROW:
        raise ValueError(f"unknown Table 5 row {key!r}; rows: {', '.join(ROW)}")
    return ROW[key]


def check_column(column: str) -> tuple[str, ...]:
    if column not in COLUMN_TASKS:
        raise ValueError(f"unknown Table 5 column {column!r}; columns: {', '.join(COLUMN_TASKS)}")
    return COLUMN_TASKS[column]


def get_model(profile: Profile, key: str, column: str, seed: int = 0, store: ArtifactStore | None = None,
              ) -> tuple[MaskedVideoModel, pd.DataFrame]:
    """Train (or load) row ``key``'s model for ``column`` with the arguments every notebook uses for that model
    (``full`` FP / MT8 are notebook 05's and Table 4's; ``latent`` FP is notebook 05's MaskGIT 3D-VQ)."""
    row = get_row(key)
    check_column(column)
    if column not in row.columns:
        raise ValueError(f"row {key!r} has no {column} model (the paper reports it on {row.columns})")
    tasks = "FP" if column == "FP" else MT8
    return get_transformer(profile, "pushbot", tasks, row.condition, row.losses, seed=check_seed(seed), store=store)


def shared_with(key: str, column: str) -> str:
    """Which other notebook trains (and evaluates) the same cached model at the same seed."""
    return {("full", "FP"): "05 (MAGVIT COMMIT), 08 (MAGVIT-B-FP)",
            ("full", "MT8"): "05 (Fig. 3 strip), 08 (MAGVIT-B-MT)",
            ("latent", "FP"): "05 (MaskGIT 3D-VQ)"}.get((key, column), "")


def column_estimate(long: pd.DataFrame, key: str, column: str, seed: int) -> Estimate:
    """Row ``key``'s FVD (proxy) on ``column`` at one seed: the FP evaluation, or the MT8 tasks' average."""
    part = long[(long.row == key) & (long.column == column) & (long.seed == seed)].set_index("task")
    tasks = check_column(column)
    missing = [t for t in tasks if t not in part.index]
    if missing:
        raise ValueError(f"row {key!r} seed {seed} lacks the {column} tasks {missing}")
    return average([Estimate(part.loc[t, "fvd"], part.loc[t, "fvd_low"], part.loc[t, "fvd_high"]) for t in tasks])


def per_seed(long: pd.DataFrame, key: str, column: str) -> list[Estimate]:
    seeds = sorted(long[(long.row == key) & (long.column == column)].seed.unique())
    return [column_estimate(long, key, column, s) for s in seeds]


def long_row(key: str, column: str, seed: int, task: str, evaluation: dict) -> dict:
    """One evaluation of Table 5 in long format (row, column, seed, task, and ``Evaluation.as_dict``)."""
    row = get_row(key)
    return {"row": key, "method": row.method, "losses": row.paper_losses, "condition": row.condition,
            "train_losses": "mask" if row.condition != "commit" else row.losses, "column": column, "seed": seed,
            "task": task, **evaluation}


def summary(long: pd.DataFrame) -> pd.DataFrame:
    """Table 5's layout: one row per (row, seed) with ``fp_fvd`` and ``mt8_fvd`` (FVD (proxy)) and their intervals;
    a column the row was not run on is left out of that row (NaN)."""
    out = []
    for key in [r.key for r in ROWS if r.key in set(long.row)]:
        row = get_row(key)
        for seed in sorted(long[long.row == key].seed.unique()):
            entry = {"row": key, "method": row.method, "losses": row.paper_losses,
                     "train_losses": "mask" if row.condition != "commit" else row.losses, "seed": seed}
            for column in COLUMN_TASKS:
                name = column.lower()
                if ((long.row == key) & (long.column == column) & (long.seed == seed)).any():
                    e = column_estimate(long, key, column, seed)
                    entry.update({f"{name}_fvd": e.value, f"{name}_low": e.low, f"{name}_high": e.high})
            out.append(entry)
    return pd.DataFrame(out)


Paired = tuple[np.ndarray, Mapping[tuple[str, str], RowFeatures]]  # real features, generated per (row key, column)


def paired_features(features: Mapping[tuple[str, str, int, str], ClipFeatures]) -> Paired:
    """The paired bootstrap's input from the per-clip features of each evaluation, keyed (row key, column, seed,
    task) (``sample.clip_features`` of ``table4.evaluate_task``'s samples): the real clips' features (clips
    0..n-1, the same for every evaluation) and one ``RowFeatures`` per (row key, column), seeds in order."""
    if not features:
        raise ValueError("no features given")
    real = next(iter(features.values())).real
    rows: dict[tuple[str, str], dict[int, dict[str, np.ndarray]]] = {}
    for (key, column, seed, task), f in features.items():
        if f.real.shape != real.shape or not np.array_equal(f.real, real):
            raise ValueError(f"{key} {column} seed {seed} {task} was scored against other real clips")
        rows.setdefault((key, column), {}).setdefault(seed, {})[task] = f.fake
    return real, {k: RowFeatures(tuple(per_seed[s] for s in sorted(per_seed))) for k, per_seed in rows.items()}


# rows whose seed-vs-seed line another table writes from the same features: the full-COMMIT MT8 models are notebook
# 08's pushbot MAGVIT-B-MT, evaluated on the same clips of the same tasks (``table4.evaluate_task``'s cache), so
# Table 4's line is the same comparison and one of them is left out (each row counts once in the false-call rate)
SEED_NULL_ELSEWHERE = {("full", "MT8"): "table4 MAGVIT-B-MT (pushbot)"}


def row_name(key: str, column: str) -> str:
    """A readable name of row ``key`` on ``column``: ``COMMIT (Lmask+Lrecons) FP``, ``Latent masking (MaskGIT) MT8``."""
    row = get_row(key)
    check_column(column)
    return f"{row.method} ({row.paper_losses}) {column}" if row.condition == "commit" else f"{row.method} {column}"


def seed_null_rows(paired: Paired) -> dict[str, RowFeatures]:
    """:func:`paired_features`' rows by readable name (:func:`row_name`), for ``seed_null.seed_null``, less those
    another table's seed-vs-seed line already covers (:data:`SEED_NULL_ELSEWHERE`)."""
    return {row_name(key, column): row for (key, column), row in paired[1].items()
            if (key, column) not in SEED_NULL_ELSEWHERE}


def recovers_most_difference(mask: list[Estimate], recons: list[Estimate], full: list[Estimate]) -> Estimate:
    """"+L_recons recovers most" of the gap from L_mask alone to the full loss, (mask - recons) > (mask - full) / 2,
    as a contrast positive in the paper's direction: mask / 2 + full / 2 - recons (FVD, lower is better), from the
    rows' own intervals (``verdicts.contrast_across_seeds``)."""
    if not len(mask) == len(recons) == len(full) or not mask:
        raise ValueError("need one estimate per seed for all three rows")
    return contrast_across_seeds([(0.5, mask), (0.5, full), (-1.0, recons)])


def recovers_most(mask: list[Estimate], recons: list[Estimate], full: list[Estimate],
                  resolvable: bool | None = None) -> str:
    """The verdict of :func:`recovers_most_difference` by ``verdicts.judge``."""
    return judge(recovers_most_difference(mask, recons, full), resolvable).verdict


def _show(outcome: Outcome) -> str:
    return outcome.shown()


def _features(paired: Paired, key: str, column: str) -> RowFeatures:
    real, rows = paired
    if (key, column) not in rows:
        raise ValueError(f"the paired features lack row {key!r} on {column}")
    return rows[(key, column)]


def c1_claim(long: pd.DataFrame, required_seeds: int, setting: str = "", resolvable: bool | None = None,
             paired: Paired | None = None) -> dict[str, str]:
    """C1: full COMMIT beats latent masking on FP and on MT8, each by the three-outcome rule on the difference
    (``verdicts.compare_rows``: paired bootstrap of KVD with ``paired`` = (real features, features per (row,
    column)), else from the rows' FVD (proxy) intervals), combined by ``verdicts.combine``; a column where either row
    has fewer seeds than ``required_seeds`` is not testable here (``verdicts.cap_seeds``)."""
    parts, names, texts = [], [], []
    for column in COLUMN_TASKS:
        full, latent = per_seed(long, "full", column), per_seed(long, "latent", column)
        if not full or not latent:
            raise ValueError(f"C1 needs the full-COMMIT and latent-masking rows on {column}")
        pair = None if paired is None else (paired[0], _features(paired, "full", column),
                                            _features(paired, "latent", column))
        outcome = cap_seeds(compare_rows(full, latent, resolvable=resolvable, paired=pair),
                            min(len(full), len(latent)), required_seeds)
        parts.append(outcome)
        names.append(column)
        texts.append(f"{column}: COMMIT {show(full)} vs latent masking {show(latent)} ({_show(outcome)})")
    return claims.verdict_row("C1", "; ".join(texts), combine(parts, names), setting, benchmark="pushbot")


def c2_claim(long: pd.DataFrame, required_seeds: int, setting: str = "", resolvable: bool | None = None,
             paired: Paired | None = None) -> dict[str, str]:
    """C2 on each column that has the three COMMIT rows: the chain full > mask+recons > mask (each adjacent pair by
    the three-outcome rule on its difference) and :func:`recovers_most_difference` (or its paired KVD contrast), all
    parts combined by ``verdicts.combine``; on fewer seeds than ``required_seeds`` each part is not testable here."""
    parts, names, texts = [], [], []
    for column in COLUMN_TASKS:
        rows = [per_seed(long, key, column) for key in ("full", "mask+recons", "mask")]
        if not all(rows):
            continue
        seeds = min(len(r) for r in rows)
        if paired is None:
            pairs = [compare_rows(rows[0], rows[1], resolvable=resolvable),
                     compare_rows(rows[1], rows[2], resolvable=resolvable)]
            most = with_basis(judge(recovers_most_difference(rows[2], rows[1], rows[0]), resolvable), UNPAIRED)
        else:
            real = paired[0]
            feats = [_features(paired, key, column) for key in ("full", "mask+recons", "mask")]
            pairs = [compare_features(real, feats[0], feats[1], resolvable=resolvable),
                     compare_features(real, feats[1], feats[2], resolvable=resolvable)]
            distance = choose_distance(*np.asarray(next(iter(feats[0].per_seed[0].values()))).shape)
            most = with_basis(judge(contrast(real, [(0.5, feats[2]), (0.5, feats[0]), (-1.0, feats[1])], distance),
                                    resolvable), f"{distance.upper()} (proxy), paired bootstrap over clips and seeds")
        pairs = [cap_seeds(p, seeds, required_seeds) for p in pairs]
        most = cap_seeds(most, seeds, required_seeds)
        parts += [*pairs, most]
        names += [f"{column} +L_refine > +L_recons", f"{column} +L_recons > L_mask", f"{column} recovers most"]
        texts.append(f"{column}: L_mask {show(rows[2])} -> +L_recons {show(rows[1])} -> +L_refine {show(rows[0])} "
                     f"(+L_refine over +L_recons: {_show(pairs[0])}; +L_recons over L_mask: {_show(pairs[1])}; "
                     f"+L_recons recovers most: {_show(most)})")
    if not parts:
        raise ValueError("C2 needs the three COMMIT rows (mask, mask+recons, full) on at least one column")
    return claims.verdict_row("C2", "; ".join(texts), combine(parts, names), setting, benchmark="pushbot")


def table5_claims(long: pd.DataFrame, required_seeds: int, setting: str = "", resolvable: bool | None = None,
                  paired: Paired | None = None) -> pd.DataFrame:
    """C1 and C2 (``resolvable``: the evaluator's resolving power on pushbot, None when unknown; ``paired``: the
    per-clip features for the paired bootstrap, None to judge from the rows' own intervals)."""
    return claims.verdict_table([c1_claim(long, required_seeds, resolvable=resolvable, paired=paired),
                                 c2_claim(long, required_seeds, resolvable=resolvable, paired=paired)], setting)
