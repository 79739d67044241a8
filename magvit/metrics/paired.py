"""The interval of a difference between rows scored on the same real clips: a paired, hierarchical bootstrap.

Every generated row of a table is conditioned on, and scored against, the same held-out real clips 0..n-1
(``magvit.generative.sample.sample_clips``): generated clip i of every row and every task belongs to real clip i.
The difference of two rows' distances therefore shares the noise of those real clips, which a comparison of two
separate intervals counts twice. Here a bootstrap replicate draws one set of clip indices and applies it to the real
clips and to every row, seed and task alike (paired), and resamples each row's training seeds with replacement
before averaging over them (hierarchical, as the stratified bootstrap of ``rliable``; Agarwal et al. 2021, "Deep RL
at the edge of the statistical precipice"). The seeds of a row share the clips, so the clip draw is not repeated
per seed: their agreement cannot hide the evaluation noise.

A *contrast* is sum_k w_k * mean_seeds mean_tasks D(real_t, fake_{k,seed,t}); "A beats B" with a lower-is-better
distance is the contrast (+1, B), (-1, A), positive in the paper's direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from magvit.metrics.estimate import Estimate
from magvit.metrics.frechet import check_features, frechet_distance
from magvit.metrics.kernel import counts, interval, polynomial_kernel, prefer_kvd, weighted_mmd2

DISTANCES = ("kvd", "fvd")


@dataclass(frozen=True)
class RowFeatures:
    """The generated clips' features of one row: ``per_seed[s][task]`` is ``[n, d]``, clip i conditioned on real
    clip i (one dict per training seed)."""

    per_seed: tuple[Mapping[str, np.ndarray], ...]

    def __post_init__(self) -> None:
        if not self.per_seed:
            raise ValueError("a row needs the features of at least one training seed")
        tasks = set(self.per_seed[0])
        if not tasks or any(set(s) != tasks for s in self.per_seed):
            raise ValueError("every seed of a row needs the features of the same (non-empty) set of tasks")

    @classmethod
    def of(cls, *per_seed: Mapping[str, np.ndarray] | np.ndarray, task: str = "-") -> RowFeatures:
        """A row from one ``[n, d]`` array (or task dict) per seed."""
        return cls(tuple(s if isinstance(s, Mapping) else {task: s} for s in per_seed))

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self.per_seed[0])


def choose_distance(num_clips: int, feature_dim: int) -> str:
    """``kvd`` below ~10 clips per feature (``kernel.prefer_kvd``), else ``fvd``."""
    return "kvd" if prefer_kvd(num_clips, feature_dim) else "fvd"


class _Distances:
    """Distances of one (real, fake) pair under resamples given as counts, with its kernel matrices computed once."""

    def __init__(self, real: np.ndarray, fake: np.ndarray, distance: str, k_rr: np.ndarray | None) -> None:
        self.real, self.fake, self.distance = real, fake, distance
        if distance == "kvd":
            self.k_rr = k_rr if k_rr is not None else polynomial_kernel(real, real)
            self.k_ff, self.k_rf = polynomial_kernel(fake, fake), polynomial_kernel(real, fake)

    def __call__(self, c: np.ndarray) -> np.ndarray:
        if self.distance == "kvd":
            return weighted_mmd2(self.k_rr, self.k_ff, self.k_rf, c, c)
        out = np.empty(len(c))
        for b, row in enumerate(c):
            idx = np.repeat(np.arange(len(row)), row.astype(int))
            out[b] = frechet_distance(self.real[idx], self.fake[idx])
        return out


def contrast(real: np.ndarray | Mapping[str, np.ndarray], terms: Sequence[tuple[float, RowFeatures]],
             distance: str = "kvd", num_bootstrap: int = 1000, seed: int = 0,
             confidence: float = 0.95) -> Estimate:
    """The contrast sum_k w_k * mean_seeds mean_tasks D(real_t, fake_{k,s,t}) with its paired, hierarchical
    bootstrap interval (module docstring). ``real``: ``[n, d]`` (the same clips for every task) or one per task;
    ``terms``: (weight, row); ``distance``: ``kvd`` (unbiased squared MMD) or ``fvd`` (Frechet distance)."""
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
    if not terms:
        raise ValueError("a contrast needs at least one row")
    tasks = terms[0][1].tasks
    if any(set(row.tasks) != set(tasks) for _, row in terms):
        raise ValueError(f"every row of a contrast needs the same tasks, got {[row.tasks for _, row in terms]}")
    reals = {t: check_features(real if not isinstance(real, Mapping) else real[t], f"real[{t}]") for t in tasks}
    n = {len(r) for r in reals.values()}
    if len(n) != 1:
        raise ValueError(f"every task's real clips must be the same count, got {sorted(n)}")
    n_clips = n.pop()
    k_rr = {t: polynomial_kernel(r, r) for t, r in reals.items()} if distance == "kvd" else {}
    rows = []
    for weight, row in terms:
        seeds = []
        for s, per_task in enumerate(row.per_seed):
            fakes = {t: check_features(per_task[t], f"fake[seed {s}][{t}]") for t in tasks}
            for t, f in fakes.items():
                if f.shape != reals[t].shape:
                    raise ValueError(f"paired rows need one generated clip per real clip: task {t} has "
                                     f"{f.shape} generated features for {reals[t].shape} real ones")
            seeds.append([_Distances(reals[t], fakes[t], distance, k_rr.get(t)) for t in tasks])
        rows.append((float(weight), seeds))

    def statistic(c: np.ndarray, seed_weights: list[np.ndarray]) -> np.ndarray:
        total = np.zeros(len(c))
        for (weight, seeds), sw in zip(rows, seed_weights, strict=True):
            per_seed = np.stack([np.mean([d(c) for d in per_task], axis=0) for per_task in seeds], axis=1)  # [B, S]
            total += weight * (per_seed * sw).sum(1)
        return total

    ones = np.ones((1, n_clips))
    value = float(statistic(ones, [np.full((1, len(s)), 1.0 / len(s)) for _, s in rows])[0])
    if num_bootstrap <= 0:
        return Estimate(value, value, value)
    rng = np.random.default_rng(seed)
    c = counts(rng, n_clips, num_bootstrap)
    seed_weights = [counts(rng, len(s), num_bootstrap) / len(s) for _, s in rows]
    draws = statistic(c, seed_weights)
    low, high = interval(draws, value, confidence)
    return Estimate(value, low, high)


def paired_difference(real: np.ndarray | Mapping[str, np.ndarray], better: RowFeatures, worse: RowFeatures,
                      distance: str = "kvd", num_bootstrap: int = 1000, seed: int = 0,
                      confidence: float = 0.95) -> Estimate:
    """"``better`` beats ``worse``" on a lower-is-better distance: D(worse) - D(better), positive in the claimed
    direction, with its paired hierarchical bootstrap interval (:func:`contrast`)."""
    return contrast(real, [(1.0, worse), (-1.0, better)], distance, num_bootstrap, seed, confidence)


# --- simulated rows, for the calibration of the verdict rules (``verdicts.calibration``, notebook 12) --------------

def simulate_rows(rng: np.random.Generator, num_clips: int, feature_dim: int, shifts: Sequence[float],
                  seeds: int = 2, coupling: float = 0.6, offset: float = 0.25,
                  seed_sd: float = 0.02) -> tuple[np.ndarray, list[RowFeatures]]:
    """Real features ``[n, d]`` ~ N(0, I) and one generated row per entry of ``shifts``: clip i of every row and seed
    is ``coupling`` * real_i + noise (conditioned on real clip i, as the study's rows are), offset from the real
    distribution by ``offset`` (no model is perfect) plus the row's ``shift`` in every feature, plus a small offset
    per training seed (``seed_sd``). Rows with equal shifts are draws of one distribution."""
    real = rng.standard_normal((num_clips, feature_dim))
    rows = []
    for shift in shifts:
        per_seed = []
        for _ in range(seeds):
            noise = rng.standard_normal((num_clips, feature_dim))
            seed_offset = seed_sd * rng.standard_normal(feature_dim)
            per_seed.append(coupling * real + np.sqrt(1 - coupling ** 2) * noise + offset + shift + seed_offset)
        rows.append(RowFeatures.of(*per_seed))
    return real, rows
