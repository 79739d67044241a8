"""2D -> 3D inflation: initialise the 3D-VQ from a trained 2D-VQ (paper Sec. 3.1, Tab. 7).

Per parameter: same shape -> copy; a 3D kernel [o, i, kt, k, k] from a 2D kernel [o, i, 1, k, k]:
**central** places the 2D kernel in the temporally central slice of a zero kernel (the default, and
the paper's best), **average** repeats it over the kt slices divided by kt. Other mismatches keep
their fresh initialisation. The paper's ImageNet-pretrained 2D model is played here by a 2D-VQ
pretrained on frames of the stand-in benchmarks.
"""

from __future__ import annotations

import torch
from torch import nn

MODES = ("central", "average")


def inflate_kernel(w2d: torch.Tensor, kt: int, mode: str) -> torch.Tensor:
    """[o, i, 1, k, k] -> [o, i, kt, k, k]."""
    if mode not in MODES:
        raise ValueError(f"unknown inflation {mode!r}; choose from {', '.join(MODES)}")
    if w2d.ndim != 5 or w2d.shape[2] != 1:
        raise ValueError(f"expected a 2D kernel stored as [o, i, 1, k, k], got {tuple(w2d.shape)}")
    if mode == "central":
        w3d = torch.zeros(*w2d.shape[:2], kt, *w2d.shape[3:], dtype=w2d.dtype)
        w3d[:, :, kt // 2] = w2d[:, :, 0]
        return w3d
    return w2d.repeat(1, 1, kt, 1, 1) / kt


def inflate_into(model_3d: nn.Module, state_2d: dict[str, torch.Tensor], mode: str = "central") -> dict[str, int]:
    """Load a 2D state dict into ``model_3d`` in place; returns counts of copied/inflated/kept tensors."""
    counts = {"copied": 0, "inflated": 0, "kept": 0}
    target = model_3d.state_dict()
    for name, value in target.items():
        source = state_2d.get(name)
        if source is None:
            counts["kept"] += 1
        elif source.shape == value.shape:
            target[name] = source.clone()
            counts["copied"] += 1
        elif source.ndim == 5 and source.shape[2] == 1 and value.shape[:2] == source.shape[:2] \
                and value.shape[3:] == source.shape[3:]:
            target[name] = inflate_kernel(source, value.shape[2], mode)
            counts["inflated"] += 1
        else:
            counts["kept"] += 1
    model_3d.load_state_dict(target)
    return counts
