"""Validation of the proxy evaluator: FVD (proxy) must rise with every corruption (else it cannot rank models).

Each corruption has a level in [0, 1]; at level 0 the "fake" set is an independent real split, so
the curve starts at the noise floor. The same Frechet distance on raw pooled pixels is computed
beside it, to show what the learned features add. Real clips' IS (proxy) is the ceiling of Table 1
(paper Sec. 4.1: IS from a classifier's posterior, official ``videogvt/train_lib/inception_score.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from magvit import data
from magvit.data.video import check_video
from magvit.infra.progress import progress
from magvit.metrics.frechet import fvd
from magvit.metrics.inception import inception_score
from magvit.metrics.proxy import ProxyEvaluator, blur

CORRUPTIONS = ("noise", "blur", "freeze", "shuffle", "class_swap")
# Held-out accuracy per head of the first evaluator ("motion-v1": the data probe's trunk, time pooled
# after its second layer, mean-pooled; width 32, 64 features, 400 steps of batch 32, lr 2e-3), at the cpu profile,
# seed 0, on test clips 0-255 of each benchmark (results/metrics_proxy_accuracy.csv at git 32457499). Real
# shapes clips scored IS (proxy) 1.72 (256 clips, 10 splits) on it.
MOTION_V1_ACCURACY = {
    ("pushbot", "benchmark"): 1.0, ("pushbot", "speed"): 0.754, ("pushbot", "direction"): 0.461,
    ("shapes", "benchmark"): 0.977, ("shapes", "label"): 0.379, ("shapes", "speed"): 0.895,
    ("shapes", "direction"): 0.586, ("scenes", "benchmark"): 0.977, ("scenes", "speed"): 0.516,
    ("scenes", "direction"): 0.238,
}
MOTION_V1_REAL_IS = 1.72
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


def perturb(video: torch.Tensor, kind: str, level: float, seed: int = 0,
            swap_video: torch.Tensor | None = None) -> torch.Tensor:
    """Corrupt a batch [B, 3, T, H, W] at ``level`` in [0, 1] (0 = unchanged).

    noise: Gaussian, std 0.2 * level; blur: sigma 2 * level pixels; freeze: the last ``level``
    fraction of frames repeat the frame before them (temporal information removed); shuffle: a
    ``level`` fraction of clips get their frames permuted; class_swap: a ``level`` fraction of clips
    replaced by ``swap_video`` (clips of one single class: the class distribution collapses).
    """
    check_video(video)
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}; choose from {', '.join(CORRUPTIONS)}")
    if not 0 <= level <= 1:
        raise ValueError(f"level must lie in [0, 1], got {level}")
    g = torch.Generator().manual_seed(seed)
    b, _, t = video.shape[:3]
    out = video.clone()
    if kind == "noise":
        out = (out + 0.2 * level * torch.randn(out.shape, generator=g)).clamp(0, 1)
    elif kind == "blur":
        out = blur(out, 2.0 * level)
    elif kind == "freeze":
        keep = max(1, round((1 - level) * t))
        out[:, :, keep:] = out[:, :, keep - 1:keep]
    elif kind == "shuffle":
        for i in range(round(level * b)):
            out[i] = out[i][:, torch.randperm(t, generator=g)]
    elif kind == "class_swap":
        if swap_video is None or swap_video.shape[0] < round(level * b):
            raise ValueError("class_swap needs swap_video with at least level * B clips")
        n = round(level * b)
        out[:n] = swap_video[:n]
    return out


def pixel_features(video: torch.Tensor) -> np.ndarray:
    """The raw-pixel baseline: average-pooled to 3 x 2 x 4 x 4 = 96 numbers per clip."""
    return F.adaptive_avg_pool3d(video, (2, 4, 4)).flatten(1).double().numpy()


def validation_curves(evaluator: ProxyEvaluator, num_frames: int, resolution: int, num_samples: int,
                      num_bootstrap: int = 100, seed: int = 0, benchmark: str = "shapes",
                      levels: tuple[float, ...] = LEVELS) -> pd.DataFrame:
    """FVD (proxy) and pixel FD of each corruption at each level: real val clips vs corrupted test clips."""
    real, _ = data.get_batch(data.load(benchmark, "val", num_frames, resolution, seed), range(num_samples))
    fake, _ = data.get_batch(data.load(benchmark, "test", num_frames, resolution, seed), range(num_samples))
    real_feats, real_pix = evaluator.features(real), pixel_features(real)
    swap = one_class_clips(num_samples, num_frames, resolution, seed)
    rows = []
    for kind in progress(CORRUPTIONS, desc="validation", mininterval=2.0):
        for level in levels:
            corrupted = perturb(fake, kind, level, seed, swap_video=swap)
            result = fvd(real_feats, evaluator.features(corrupted), num_bootstrap, seed)
            pix = fvd(real_pix, pixel_features(corrupted), num_bootstrap, seed)
            rows.append({"corruption": kind, "level": level, "fvd_proxy": result.value,
                         "fvd_proxy_low": result.low, "fvd_proxy_high": result.high,
                         "fd_pixels": pix.value, "fd_pixels_low": pix.low, "fd_pixels_high": pix.high})
    return pd.DataFrame(rows)


def one_class_clips(num: int, num_frames: int, resolution: int, seed: int = 0, label: int = 0) -> torch.Tensor:
    """``num`` test clips of a single ``shapes`` class (for the class-swap corruption)."""
    ds = data.load("shapes", "test", num_frames, resolution, seed)
    picked, i = [], 10**6  # a range disjoint from the clips used as fakes
    while len(picked) < num:
        if ds[i][1]["label"] == label:
            picked.append(i)
        i += 1
    return data.get_batch(ds, picked)[0]


def monotonicity(curves: pd.DataFrame, column: str = "fvd_proxy") -> pd.DataFrame:
    """Per corruption: does the metric rise at every level step? And by how much overall?"""
    rows = []
    for kind, group in curves.groupby("corruption", sort=False):
        values = group.sort_values("level")[column].to_numpy()
        rows.append({"corruption": kind, "metric": column, "monotonic": bool(np.all(np.diff(values) > 0)),
                     "at_level_0": values[0], "at_level_1": values[-1],
                     "ratio_1_to_0": values[-1] / max(values[0], 1e-9)})
    return pd.DataFrame(rows)


def noise_floor(evaluator: ProxyEvaluator, num_frames: int, resolution: int, num_samples: int,
                num_bootstrap: int = 200, seed: int = 0) -> pd.DataFrame:
    """FVD (proxy) between two disjoint real splits (val vs test) per benchmark, with intervals."""
    rows = []
    for name in data.BENCHMARKS:
        a, _ = data.get_batch(data.load(name, "val", num_frames, resolution, seed), range(num_samples))
        b, _ = data.get_batch(data.load(name, "test", num_frames, resolution, seed), range(num_samples))
        result = fvd(evaluator.features(a), evaluator.features(b), num_bootstrap, seed)
        rows.append({"benchmark": name, "fvd_proxy": result.value, "low": result.low, "high": result.high,
                     "n": num_samples})
    return pd.DataFrame(rows)


def before_after(accuracy: pd.DataFrame) -> pd.DataFrame:
    """The held-out accuracy table of :func:`magvit.metrics.heldout_accuracy` with the first evaluator (``motion-v1``)
    beside it (``before``; NaN where that head was not measured) and the change."""
    missing = {"benchmark", "head", "accuracy", "chance"} - set(accuracy.columns)
    if missing:
        raise ValueError(f"accuracy table lacks columns {sorted(missing)}")
    out = accuracy[["benchmark", "head", "chance"]].copy()
    out["before"] = [MOTION_V1_ACCURACY.get((b, h), np.nan) for b, h in zip(out.benchmark, out["head"], strict=True)]
    out["after"] = accuracy["accuracy"].to_numpy()
    out["change"] = out["after"] - out["before"]
    return out


def real_inception_scores(evaluator: ProxyEvaluator, num_frames: int, resolution: int, num_samples: int,
                          seed: int = 0, splits: int = 4) -> pd.DataFrame:
    """IS (proxy) of ``num_samples`` real test clips per benchmark, split as the tables split generated ones.

    On ``shapes`` this is the ceiling of Table 1: a generator whose clips were indistinguishable from real ones
    would score it (the maximum, the class count, needs every clip classified with certainty and the classes
    equally frequent). ``pushbot`` and ``scenes`` have no classes: their scores show what the ``shapes`` posterior
    does on clips outside its class set.
    """
    if num_samples < 2:
        raise ValueError(f"IS needs at least 2 clips, got {num_samples}")
    splits = min(splits, num_samples)  # the tables' groups, as magvit.generative.sample.score splits IS
    rows = []
    for name in data.BENCHMARKS:
        video, _ = data.get_batch(data.load(name, "test", num_frames, resolution, seed), range(num_samples))
        mean, std = inception_score(evaluator.class_probs(video), splits=splits)
        rows.append({"benchmark": name, "is_proxy": mean, "is_proxy_std": std, "clips": num_samples,
                     "splits": splits, "classes": data.num_classes("shapes")})
    return pd.DataFrame(rows)
