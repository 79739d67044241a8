"""How well a tokenizer reconstructs held-out clips: FVD (proxy) with its bootstrap interval, IS (proxy), PSNR; the
trivial reference reconstructions to read them against, codebook usage, and *retention*: how much of what
the proxy evaluator reads in real clips (the shapes class, speed, direction) it still reads in their reconstructions.

Shared by the shared tokenizer's evaluation (notebook 03) and Table 7 (``magvit.experiments.table7``, notebook 10);
the paper judges tokenizers by reconstruction FVD and IS (Tab. 7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from magvit import data
from magvit.config import DataConfig
from magvit.metrics import ProxyEvaluator, fvd, inception_score, psnr
from magvit.metrics.proxy import NUM_DIRECTIONS, NUM_SPEEDS
from magvit.tokenizer.model import VQTokenizer


@torch.no_grad()
def reconstruct(tokenizer: VQTokenizer, video: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """encode -> decode -> clip to [0, 1], in batches (for evaluation), on the tokenizer's device; the result is on
    ``video``'s device."""
    device = next(tokenizer.parameters()).device
    out = [tokenizer.decode(tokenizer.encode(video[i:i + batch_size].to(device))).clamp(0, 1).to(video.device)
           for i in range(0, video.shape[0], batch_size)]
    return torch.cat(out)


@torch.no_grad()
def reference_reconstructions(video: torch.Tensor, train_mean: torch.Tensor,
                              block: tuple[int, int, int]) -> dict[str, torch.Tensor]:
    """Trivial "reconstructions" of ``video`` [B, 3, T, H, W] to read a tokenizer's numbers against.

    - ``train mean colour``: every pixel set to ``train_mean`` [3] (the per-channel mean of training clips):
      no information about the clip at all; an MSE at this level means the tokenizer learned nothing;
    - ``clip mean colour``: each clip's own per-channel mean (3 numbers per clip);
    - ``block mean``: the mean over each ``block`` = (t, h, w) supervoxel, i.e. one RGB value per token
      position of a tokenizer with that compression (3 numbers per token, unquantised).
    """
    b, c, t, h, w = video.shape
    pool = F.interpolate(F.avg_pool3d(video, block), size=(t, h, w), mode="nearest")
    return {"train mean colour": train_mean.view(1, c, 1, 1, 1).expand_as(video),
            "clip mean colour": video.mean((2, 3, 4), keepdim=True).expand_as(video),
            f"block mean {block[0]}x{block[1]}x{block[2]}": pool}


def codebook_usage(ids: torch.Tensor, codebook_size: int) -> dict[str, float]:
    """Fraction of codes used and the perplexity of the code distribution over ``ids``."""
    counts = torch.bincount(ids.flatten(), minlength=codebook_size).double()
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return {"codes_used": float((counts > 0).float().mean()), "perplexity": float(entropy.exp())}


@dataclass(frozen=True)
class HeldOut:
    """Held-out clips with what the evaluator says about them, computed once for every model compared."""

    video: torch.Tensor  # [N, 3, T, H, W] in [0, 1]
    features: np.ndarray  # proxy features [N, feature_dim]
    is_real: float  # IS (proxy) of the real clips, for scale


def held_out_set(evaluator: ProxyEvaluator, video: torch.Tensor) -> HeldOut:
    """The clips with their proxy features and IS (proxy), to compare several tokenizers' reconstructions against."""
    return HeldOut(video, evaluator.features(video), inception_score(evaluator.class_probs(video))[0])


def reconstruction_quality(tokenizer: VQTokenizer, evaluator: ProxyEvaluator, held_out: HeldOut,
                           num_bootstrap: int, seed: int = 0, recon: torch.Tensor | None = None) -> dict[str, float]:
    """Reconstruction FVD (proxy) with its bootstrap interval, IS (proxy) with its split std, and PSNR,
    from one reconstruction of the held-out clips (``recon`` when the caller already made it)."""
    if recon is None:
        recon = reconstruct(tokenizer, held_out.video)
    result = fvd(held_out.features, evaluator.features(recon), num_bootstrap, seed)
    is_mean, is_std = inception_score(evaluator.class_probs(recon))
    return {"fvd_proxy": result.value, "fvd_low": result.low, "fvd_high": result.high, "is_proxy": is_mean,
            "is_std": is_std, "is_proxy_real": held_out.is_real, "num_clips": result.n_real,
            "psnr": psnr(held_out.video, recon)}


# ---------------------------------------------------------------------------------------------
# retention: the generative tables judge clips decoded from tokens with the proxy evaluator, so the
# tokens must keep what it reads. PSNR does not say that (a tokenizer at 21.8 dB kept 0.12 of a 0.71 class accuracy).

# the evaluator's heads a tokenizer must keep, with their class counts (the benchmark head is not a property of a
# clip's content that a tokenizer could lose)
RETENTION_HEADS = {"label": len(data.SHAPES_CLASSES), "speed": NUM_SPEEDS, "direction": NUM_DIRECTIONS}
RETENTION_COLUMNS = ["benchmark", "head", "real_accuracy", "recon_accuracy", "chance", "clips"]
# the retention gate: (benchmark, head) -> the fraction of the real clips' value the reconstructions must keep
RETENTION_GATE = {("shapes", "label"): 0.8, ("pushbot", "direction"): 0.8, ("shapes", "is_proxy"): 0.7}


@dataclass(frozen=True)
class LabelledClips:
    """Held-out clips of one benchmark [N, 3, T, H, W] in [0, 1] and their labels (-1: not applicable)."""

    video: torch.Tensor
    labels: dict[str, torch.Tensor]


def labelled_clips(cfg: DataConfig, num_clips: int, split: str = "test", seed: int = 0,
                   benchmarks: tuple[str, ...] = data.BENCHMARKS) -> dict[str, LabelledClips]:
    """The first ``num_clips`` clips of ``split`` of each benchmark, with their labels."""
    if num_clips < 2:
        raise ValueError(f"retention needs at least 2 clips per benchmark (IS of one clip is 1), got {num_clips}")
    out = {}
    for name in benchmarks:
        video, labels = data.get_batch(data.load(name, split, cfg.num_frames, cfg.resolution, seed), range(num_clips))
        out[name] = LabelledClips(video, labels)
    return out


def head_outcomes(evaluator: ProxyEvaluator, item: LabelledClips, recon: torch.Tensor, head: str
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per labelled clip (label >= 0), whether the evaluator's ``head`` reads the label right on the real clip and on
    its reconstruction: two boolean arrays."""
    target = item.labels[head].numpy()
    valid = target >= 0
    return ((evaluator.predict(item.video, head) == target)[valid], (evaluator.predict(recon, head) == target)[valid])


def retention(evaluator: ProxyEvaluator, clips: dict[str, LabelledClips],
              reconstruct_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
              recons: dict[str, torch.Tensor] | None = None, is_splits: int = 4) -> pd.DataFrame:
    """The evaluator's accuracy of every head that applies, on the real clips and on their reconstructions.

    ``reconstruct_fn(video) -> video`` (e.g. ``lambda v: reconstruct(tokenizer, v)``), or ``recons`` per benchmark
    when the caller already made them. One row per (benchmark, head) with labels (clips labelled -1 are left out of
    that head), columns ``RETENTION_COLUMNS``; plus, for ``shapes``, a row ``head = "is_proxy"`` whose value
    columns hold IS (proxy) of the real clips and of the reconstructions (``is_splits`` splits, as the tables split
    generated clips) and whose ``chance`` is 1 (the IS of a posterior that ignores its input).
    """
    if (reconstruct_fn is None) == (recons is None):
        raise ValueError("retention needs exactly one of reconstruct_fn and recons")
    rows = []
    for name, item in clips.items():
        recon = reconstruct_fn(item.video) if recons is None else recons[name]
        if recon.shape != item.video.shape:
            raise ValueError(f"{name}: reconstructions have shape {tuple(recon.shape)}, the clips "
                             f"{tuple(item.video.shape)}")
        for head, k in RETENTION_HEADS.items():
            if not (item.labels[head] >= 0).any():
                continue
            real, fake = head_outcomes(evaluator, item, recon, head)
            rows.append({"benchmark": name, "head": head, "real_accuracy": float(real.mean()),
                         "recon_accuracy": float(fake.mean()), "chance": 1 / k, "clips": len(real)})
        if name == "shapes":
            splits = min(is_splits, len(item.video))
            rows.append({"benchmark": name, "head": "is_proxy",
                         "real_accuracy": inception_score(evaluator.class_probs(item.video), splits)[0],
                         "recon_accuracy": inception_score(evaluator.class_probs(recon), splits)[0],
                         "chance": 1.0, "clips": len(item.video)})
    return pd.DataFrame(rows, columns=RETENTION_COLUMNS)


def tokenizer_retention(tokenizer: VQTokenizer, evaluator: ProxyEvaluator, clips: dict[str, LabelledClips],
                        is_splits: int = 4) -> pd.DataFrame:
    """:func:`retention` of ``tokenizer``'s reconstructions (encode -> decode)."""
    return retention(evaluator, clips, lambda v: reconstruct(tokenizer, v), is_splits=is_splits)


def retention_intervals(evaluator: ProxyEvaluator, clips: dict[str, LabelledClips], recons: dict[str, torch.Tensor],
                        gate: dict[tuple[str, str], float] | None = None, num_bootstrap: int = 200, seed: int = 0,
                        is_splits: int = 4, level: float = 0.95) -> pd.DataFrame:
    """Percentile bootstrap interval of each gated retention ratio (reconstructions' value / real clips'), resampling
    the clips with replacement and pairing them (a resample takes the same clips real and reconstructed), so that the
    gate's reading says how far the clips' sampling alone moves it. Columns benchmark, head, ratio_low, ratio_high."""
    gate = RETENTION_GATE if gate is None else gate
    if num_bootstrap < 2:
        raise ValueError(f"num_bootstrap must be at least 2, got {num_bootstrap}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    rows = []
    for bench, head in gate:
        if bench not in clips or bench not in recons:
            raise ValueError(f"retention_intervals needs clips and reconstructions of {bench!r} for its gated row "
                             f"({bench}, {head})")
        item, recon = clips[bench], recons[bench]
        if head == "is_proxy":
            real, fake = evaluator.class_probs(item.video), evaluator.class_probs(recon)

            def ratio(idx: np.ndarray, real=real, fake=fake) -> float:
                splits = min(is_splits, len(idx))
                return inception_score(fake[idx], splits)[0] / inception_score(real[idx], splits)[0]
        else:
            real, fake = head_outcomes(evaluator, item, recon, head)

            def ratio(idx: np.ndarray, real=real, fake=fake) -> float:
                return float(fake[idx].mean() / real[idx].mean()) if real[idx].any() else float("nan")
        n = len(real)
        draws = np.array([ratio(rng.integers(0, n, n)) for _ in range(num_bootstrap)])
        low, high = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"benchmark": bench, "head": head, "ratio_low": float(low), "ratio_high": float(high)})
    return pd.DataFrame(rows)


def retention_bar(table: pd.DataFrame, gate: dict[tuple[str, str], float] | None = None,
                  intervals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The retention gate on a :func:`retention` table: per gated (benchmark, head), the reconstructions' value as a
    fraction of the real clips' (``ratio``) against the ``required`` fraction (``RETENTION_GATE``). The verdict reads
    the ratio itself; ``intervals`` (:func:`retention_intervals`) add ``ratio_low`` / ``ratio_high`` beside it."""
    gate = RETENTION_GATE if gate is None else gate
    indexed = table.set_index(["benchmark", "head"])
    missing = [k for k in gate if k not in indexed.index]
    if missing:
        raise ValueError(f"retention table lacks the gated rows {missing}")
    rows = []
    for (bench, head), required in gate.items():
        real, recon = float(indexed.loc[(bench, head), "real_accuracy"]), float(indexed.loc[(bench, head),
                                                                                             "recon_accuracy"])
        ratio = recon / real if real > 0 else float("nan")
        rows.append({"criterion": "retention", "benchmark": bench, "head": head, "real": real, "reconstruction": recon,
                     "ratio": ratio, "required": required, "meets_bar": bool(ratio >= required)})
    bar = pd.DataFrame(rows)
    if intervals is not None:
        present = set(zip(intervals.benchmark, intervals["head"], strict=True))
        missing = [k for k in gate if k not in present]
        if missing:
            raise ValueError(f"intervals lack the gated rows {missing}")
        bar = bar.merge(intervals[["benchmark", "head", "ratio_low", "ratio_high"]], on=["benchmark", "head"])
        bar = bar[[c for c in bar.columns if c != "meets_bar"] + ["meets_bar"]]
    return bar


def retention_text(bar: pd.DataFrame) -> str:
    """A computed sentence on :func:`retention_bar`."""
    interval = (lambda r: f" [{r.ratio_low:.0%}, {r.ratio_high:.0%}]") if "ratio_low" in bar else (lambda r: "")
    parts = [f"{r.benchmark} {'IS (proxy)' if r.head == 'is_proxy' else r.head} {r.reconstruction:.3f} of "
             f"{r.real:.3f} ({r.ratio:.0%}{interval(r)}, bar {r.required:.0%})" for r in bar.itertuples()]
    met = bar.meets_bar
    head = ("**The tokenizer keeps what the evaluator reads (gate met)**" if met.all() else
            f"**The tokenizer misses the retention gate on {len(bar) - int(met.sum())} of {len(bar)} criteria**")
    return f"{head}: " + "; ".join(parts) + "."
