"""The Frechet distance between feature sets, and FVD with a bootstrap interval (paper Sec. 4.1;
official ``videogvt/train_lib/frechet_distance.py``).

d^2 = ||mu_1 - mu_2||^2 + Tr(S_1) + Tr(S_2) - 2 Tr((S_1 S_2)^{1/2}), in float64, with unbiased
covariances (n - 1) as ``np.cov`` and the reference FVD code use. FVD is this distance on video
features: the I3D logits for the standard FVD (``magvit.metrics.i3d``), the proxy evaluator's
features for "FVD (proxy)" (``magvit.metrics.proxy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from magvit.metrics.estimate import DistanceResult


def check_features(feats: np.ndarray, name: str = "features") -> np.ndarray:
    """Features as float64 ``[N, D]``; NaN/inf, wrong rank or fewer than 2 samples are errors."""
    feats = np.asarray(feats.detach().cpu() if hasattr(feats, "detach") else feats, dtype=np.float64)
    if feats.ndim != 2:
        raise ValueError(f"{name} must have shape [N, D], got {feats.shape}")
    if feats.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples for a covariance, got {feats.shape[0]}")
    if not np.isfinite(feats).all():
        raise ValueError(f"{name} contains NaN or inf")
    return feats


def feature_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D]."""
    feats = check_features(feats)
    return feats.mean(0), np.atleast_2d(np.cov(feats, rowvar=False))


def frechet_distance_from_stats(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance of two Gaussians N(mu1, sigma1), N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched statistics: mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {sigma1.shape} vs {sigma2.shape}")
    for name, a in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2))


def symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The PSD square root of a symmetric PSD matrix (eigenvalues below 0, rounding noise, clipped to 0)."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((S_1 S_2)^{1/2}) = Tr((S_1^{1/2} S_2 S_1^{1/2})^{1/2}): S_1 S_2 is similar to the symmetric PSD inner
    matrix, so the traces of their square roots agree. This is how the reference FVD code computes it (TF-GAN's
    ``trace_sqrt_product``, under ``frechet_video_distance``); it stays real and finite for singular covariances
    (fewer clips than features), and two symmetric eigendecompositions cost far less than ``scipy.linalg.sqrtm``
    (the bootstrap computes hundreds)."""
    root1 = symmetric_sqrt(sigma1)
    inner = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Frechet distance between two feature sets ``[N, D]`` and ``[M, D]``."""
    a, b = check_features(feats_a, "feats_a"), check_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature widths differ: {a.shape[1]} vs {b.shape[1]}")
    return frechet_distance_from_stats(*feature_stats(a), *feature_stats(b))


@dataclass(frozen=True)
class FVDResult(DistanceResult):
    """An FVD with its bootstrap percentile interval and the sample counts behind it."""

    number_format: ClassVar[str] = ".2f"


def fvd(real_feats: np.ndarray, fake_feats: np.ndarray, num_bootstrap: int = 200, seed: int = 0,
        confidence: float = 0.95) -> FVDResult:
    """FVD between feature sets with a bootstrap interval that resamples both sets."""
    real, fake = check_features(real_feats, "real_feats"), check_features(fake_feats, "fake_feats")
    value = frechet_distance(real, fake)
    rng = np.random.default_rng(seed)
    draws = [frechet_distance(real[rng.integers(0, len(real), len(real))],
                              fake[rng.integers(0, len(fake), len(fake))]) for _ in range(num_bootstrap)]
    if not draws:
        return FVDResult(value, value, value, len(real), len(fake), 0)
    # Resampling with replacement duplicates samples, which shrinks the covariances' effective size and
    # biases every bootstrap FD upwards, so a plain percentile interval can miss the estimate entirely
    # (seen at the noise floor). Centre the bootstrap distribution on the estimate (bias-corrected
    # percentile interval), keep it inside [0, inf) where the distance lives, and make it contain the value.
    alpha = (1 - confidence) / 2
    bias = float(np.mean(draws)) - value
    low, high = np.quantile(draws, [alpha, 1 - alpha]) - bias
    low, high = max(0.0, min(float(low), value)), max(float(high), value)
    return FVDResult(value, low, high, len(real), len(fake), num_bootstrap)


def fvd_groups(real_feats: np.ndarray, fake_feats: np.ndarray, groups: int = 4) -> tuple[float, float]:
    """FVD as the official code reports it: the mean and standard deviation (ddof 0) of the Frechet distance over
    ``groups`` disjoint, equal, consecutive groups of the paired samples (real i beside fake i; a remainder that
    does not fill a group is left out). Official ``videogvt/train_lib/eval_utils.py``; Tab. 1-5 give "mean +- std"."""
    real, fake = check_features(real_feats, "real_feats"), check_features(fake_feats, "fake_feats")
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    if len(real) != len(fake):
        raise ValueError(f"grouped FVD pairs real and fake samples: got {len(real)} real vs {len(fake)} fake")
    size = len(real) // groups
    if size < 2:
        raise ValueError(f"{len(real)} samples cannot fill {groups} groups of at least 2")
    values = [frechet_distance(real[g * size:(g + 1) * size], fake[g * size:(g + 1) * size]) for g in range(groups)]
    return float(np.mean(values)), float(np.std(values))
