"""Inception Score from class posteriors with the usual split protocol (official
``videogvt/train_lib/inception_score.py``)."""

from __future__ import annotations

import numpy as np


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """IS = exp(E_x KL(p(y|x) || p(y))) per split; returns (mean, population std) over splits."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"probs must have shape [N, K], got {probs.shape}")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError("probs must be finite and non-negative")
    if not np.allclose(probs.sum(1), 1.0, atol=1e-4):
        raise ValueError("each row of probs must sum to 1 (pass a softmax, not logits)")
    if not 1 <= splits <= len(probs):
        raise ValueError(f"splits must lie in [1, {len(probs)}], got {splits}")
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(marginal + 1e-12))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))
