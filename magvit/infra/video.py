"""The package's one video convention and its input checks.

Models and metrics take ``video``: float32 ``[B, 3, T, H, W]`` in ``[0, 1]`` (the
official code uses [0, 1] without zero-centring: ``videogvt/train_lib/vqgan_train_lib.py``). Datasets yield
uint8 ``[T, H, W, 3]`` clips; ``to_video`` / ``to_uint8`` convert. Bad input raises an error naming the problem;
nothing is silently coerced.

It sits in ``infra`` because the data layer, the models, the metrics and ``infra.plots`` all need it;
``magvit.data.video`` re-exports it.
"""

from __future__ import annotations

import torch
from einops import rearrange

RANGE_TOLERANCE = 1e-3


def check_video(video: torch.Tensor, name: str = "video", channels: int = 3) -> torch.Tensor:
    """Validate a float video ``[B, C, T, H, W]`` in [0, 1]; return it unchanged."""
    if not isinstance(video, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(video).__name__}")
    if video.ndim != 5:
        raise ValueError(f"{name} must have shape [B, {channels}, T, H, W], got rank {video.ndim} "
                         f"shape {tuple(video.shape)}")
    if video.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels in dim 1 ([B, C, T, H, W]), got "
                         f"shape {tuple(video.shape)}; channels-last clips need magvit.data.video.to_video")
    if not video.is_floating_point():
        raise TypeError(f"{name} must be a float tensor in [0, 1], got dtype {video.dtype}; "
                        "uint8 clips need magvit.data.video.to_video")
    if video.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(video.shape)}")
    if not torch.isfinite(video).all():
        raise ValueError(f"{name} contains NaN or inf")
    lo, hi = float(video.min()), float(video.max())
    if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        raise ValueError(f"{name} values must lie in [0, 1], found [{lo:.4g}, {hi:.4g}]")
    return video


def to_video(clips: torch.Tensor) -> torch.Tensor:
    """uint8 ``[B, T, H, W, 3]`` (or one ``[T, H, W, 3]`` clip) -> float ``[B, 3, T, H, W]``."""
    if clips.dtype != torch.uint8:
        raise TypeError(f"clips must be uint8 [B, T, H, W, 3], got dtype {clips.dtype}")
    if clips.ndim == 4:
        clips = clips[None]
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"clips must have shape [B, T, H, W, 3], got {tuple(clips.shape)}")
    return rearrange(clips, "b t h w c -> b c t h w").float() / 255.0


def to_uint8(video: torch.Tensor) -> torch.Tensor:
    """float ``[B, 3, T, H, W]`` -> uint8 ``[B, T, H, W, 3]``, clipping to [0, 1] first."""
    if video.ndim != 5:
        raise ValueError(f"video must have shape [B, 3, T, H, W], got {tuple(video.shape)}")
    clipped = video.detach().clamp(0, 1).mul(255).round().to(torch.uint8)
    return rearrange(clipped, "b c t h w -> b t h w c").cpu()
