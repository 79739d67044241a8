"""PSNR and SSIM per frame, averaged over frames and clips, on [0, 1] video (paper Tab. 3; official
image_quality_metrics.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange

from magvit.data.video import check_video

LPIPS_NA = ("n/a (LPIPS weights unavailable: the lpips package needs torchvision, which does not "
            "install beside torch 2.13.0 here, and its backbone weights cannot be downloaded)")
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)  # the official code's grayscale conversion for SSIM


def _frames(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_video(a, "a")
    check_video(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"videos differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    return (rearrange(v.double(), "b c t h w -> (b t) c h w") for v in (a, b))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over frames of -10 log10(MSE over H, W, C), peak 1."""
    fa, fb = _frames(a, b)
    mse = (fa - fb).pow(2).mean((1, 2, 3)).clamp_min(1e-10)
    return float((-10 * torch.log10(mse)).mean())


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5, k1: float = 0.01,
         k2: float = 0.03, grayscale: bool = False) -> float:
    """Mean SSIM per frame (Wang et al. 2004): Gaussian window, population statistics, valid region.

    Matches ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, channel_axis=-1)`` on each frame (mean over channels);
    ``grayscale=True`` converts first, as the official code does.
    """
    fa, fb = _frames(a, b)
    if min(fa.shape[-2:]) < window:
        raise ValueError(f"frames of {tuple(fa.shape[-2:])} are smaller than the {window}x{window} SSIM window")
    if grayscale:
        w = torch.tensor(GRAY_WEIGHTS, dtype=fa.dtype)[None, :, None, None]
        fa, fb = (fa * w).sum(1, keepdim=True), (fb * w).sum(1, keepdim=True)
    c = fa.shape[1]
    g = gaussian_window(window, sigma)
    kernel = (g[:, None] * g[None, :]).expand(c, 1, window, window).contiguous()

    def filt(x: torch.Tensor) -> torch.Tensor:  # valid filtering: skimage crops the padded border
        return F.conv2d(x, kernel, groups=c)

    mu_a, mu_b = filt(fa), filt(fb)
    var_a = filt(fa * fa) - mu_a**2
    var_b = filt(fb * fb) - mu_b**2
    cov = filt(fa * fb) - mu_a * mu_b
    c1, c2 = k1**2, k2**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s.mean((1, 2, 3)).mean())
