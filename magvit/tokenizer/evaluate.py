"""How well a tokenizer reconstructs held-out clips: FVD (proxy) with its bootstrap interval, IS (proxy), PSNR; the
trivial reference reconstructions to read them against, and codebook usage.

Shared by the shared tokenizer's evaluation (notebook 03) and Table 7 (``magvit.experiments.table7``, notebook 10);
the paper judges tokenizers by reconstruction FVD and IS (Tab. 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from magvit.metrics import ProxyEvaluator, fvd, inception_score, psnr
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
