"""How well a tokenizer reconstructs held-out clips: FVD (proxy) with its bootstrap interval, IS (proxy), PSNR.

Shared by the shared tokenizer's evaluation (notebook 03) and Table 7 (``magvit.experiments.table7``, notebook 10);
the paper judges tokenizers by reconstruction FVD and IS (Tab. 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from magvit.metrics import ProxyEvaluator, fvd, inception_score, psnr
from magvit.tokenizer.model import VQTokenizer
from magvit.tokenizer.train import reconstruct


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
