"""Building blocks shared by the tokenizers: normalisation, padded convolution, residual block, upsampling.

Paper Sec. 3.1 ("3D architecture design"; reflect padding for token consistency) and the official code's
``videogvt/models/enc_dec_3dcnn.py`` (pre-activation residual blocks GroupNorm -> swish -> conv, no bias; a 1x1x1
shortcut when the width changes; nearest-neighbour upsampling followed by a convolution). The official code pads
with zeros; reflect padding is the paper's, and both are a config switch here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

PADDINGS = ("reflect", "zeros")

NORMS = ("group", "batch", "none")


def norm_layer(channels: int, norm: str = "group") -> nn.Module:
    """The normalisation layer: GroupNorm with 32 groups (Flax default; fewer for the narrow profiles),
    eps 1e-6, as the paper and code. ``norm="batch"`` is the scale adaptation of the smoke/cpu/gpu profiles
    (per-clip GroupNorm strips each clip's colour; notebook 03's learning curves); "none" is for diagnosis."""
    if norm == "group":
        return nn.GroupNorm(math.gcd(32, channels), channels, eps=1e-6)
    if norm == "batch":
        return nn.BatchNorm3d(channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {norm!r}; choose from {', '.join(NORMS)}")


class Conv(nn.Module):
    """A "same" convolution: reflect padding (paper Sec. 3.1) by F.pad, or zeros (official code), by the convolution
    itself around an odd kernel and by F.pad around an even one.

    Kernel (kt, k, k); kt = 1 makes it a per-frame 2D convolution (the 2D-VQ, and what inflation
    turns into a 3D kernel).
    """

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int, int], padding: str, bias: bool = True):
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"unknown padding {padding!r}; choose from {', '.join(PADDINGS)}")
        self.padding = padding
        # zeros around an odd kernel: the convolution's own padding, the same sums without a padded copy of the input
        # (F.pad and its backward were ~20% of a cpu-profile tokenizer step: 0.32-0.35 s instead of 0.42, measured)
        native = padding == "zeros" and all(k % 2 == 1 for k in kernel)
        # W, H, T order for F.pad; all 0 when the convolution pads by itself
        self.pad = [0] * 6 if native else [p for k in reversed(kernel) for p in ((k - 1) // 2, k // 2)]
        self.conv = nn.Conv3d(c_in, c_out, kernel, bias=bias, padding=tuple(k // 2 for k in kernel) if native else 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pad):
            x = F.pad(x, self.pad, mode="reflect" if self.padding == "reflect" else "constant")
        return self.conv(x)


class ResBlock(nn.Module):
    """h = conv(swish(GN(x))) twice, no bias; 1x1x1 shortcut when the width changes (enc_dec_3dcnn.py)."""

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int, int], padding: str, norm: str = "group"):
        super().__init__()
        self.norm1, self.conv1 = norm_layer(c_in, norm), Conv(c_in, c_out, kernel, padding, bias=False)
        self.norm2, self.conv2 = norm_layer(c_out, norm), Conv(c_out, c_out, kernel, padding, bias=False)
        self.shortcut = nn.Identity() if c_in == c_out else nn.Conv3d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.shortcut(x)



class Upsample(nn.Module):
    """Nearest-neighbour x2 in H, W (and T when temporal), then a conv keeping the width."""

    def __init__(self, width: int, temporal: bool, kernel: tuple[int, int, int], padding: str):
        super().__init__()
        self.scale = (2 if temporal else 1, 2, 2)
        self.conv = Conv(width, width, kernel, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=self.scale, mode="nearest"))

