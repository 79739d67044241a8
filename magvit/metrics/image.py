"""PSNR and SSIM per frame, averaged over frames and clips, on [0, 1] video (paper Sec. 4.1, Tab. 3; official
``videogvt/train_lib/image_quality_metrics.py``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange

from magvit.data.video import check_video

LPIPS_NA = ("n/a (LPIPS weights unavailable: the lpips package needs torchvision, which does not "
            "install beside torch 2.13.0 here, and its backbone weights cannot be downloaded)")
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)  # the official ``rgb2gray`` (ITU-R BT.709 luma), applied before SSIM
SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03  # tf.image.ssim's defaults, as the official code


def _frames(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_video(a, "a")
    check_video(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"videos differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    return (rearrange(v.double(), "b c t h w -> (b t) c h w") for v in (a, b))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over frames of -10 log10(MSE over H, W, C), peak 1 (official ``psnr``)."""
    fa, fb = _frames(a, b)
    mse = (fa - fb).pow(2).mean((1, 2, 3)).clamp_min(1e-10)
    return float((-10 * torch.log10(mse)).mean())


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """The normalised 1D Gaussian [size] centred on the middle tap (official ``compute_ssim``'s filter)."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim_frames(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """SSIM of every frame, [B, T] float64, the official convention for BAIR (paper Tab. 3).

    Official ``image_quality_metrics.ssim`` / ``compute_ssim`` (tested there against ``tf.image.ssim``):
    each frame goes to grayscale with ``rgb2gray`` (0.2125 R + 0.7154 G + 0.0721 B), is filtered with an
    11 x 11 Gaussian window (sigma 1.5) in VALID mode (no padding: an (H-10) x (W-10) map), with population
    (biased) local statistics, variances clipped at 0 and the covariance at sqrt(var_a var_b) as the official
    code does, k1 = 0.01, k2 = 0.03, max_val 1; the frame's SSIM is the mean over its map.
    """
    fa, fb = _frames(a, b)
    if min(fa.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"frames of {tuple(fa.shape[-2:])} are smaller than the {SSIM_WINDOW}x{SSIM_WINDOW} "
                         "SSIM window")
    w = torch.tensor(GRAY_WEIGHTS, dtype=fa.dtype)[None, :, None, None]
    fa, fb = (fa * w).sum(1, keepdim=True), (fb * w).sum(1, keepdim=True)
    g = gaussian_window()

    def filt(x: torch.Tensor) -> torch.Tensor:  # separable, valid: the official code's convolve2d(mode="valid")
        return F.conv2d(F.conv2d(x, g.view(1, 1, -1, 1)), g.view(1, 1, 1, -1))

    mu_a, mu_b = filt(fa), filt(fb)
    var_a = (filt(fa * fa) - mu_a**2).clamp_min(0)
    var_b = (filt(fb * fb) - mu_b**2).clamp_min(0)
    cov = filt(fa * fb) - mu_a * mu_b
    cov = cov.sign() * torch.minimum((var_a * var_b).sqrt(), cov.abs())
    c1, c2 = SSIM_K1**2, SSIM_K2**2  # (k * max_val)^2 with max_val 1
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.mean((1, 2, 3)).view(a.shape[0], a.shape[2])


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM over frames and clips of two videos [B, 3, T, H, W] in [0, 1] (see :func:`ssim_frames`).

    The official ``run_models`` averages the frames of each clip, then the clips: with equal clip lengths
    that is the mean over all frames, returned here.
    """
    return float(ssim_frames(a, b).mean())
