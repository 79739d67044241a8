"""StyleGAN-style discriminator inflated to 3D, and the LeCam regulariser (paper Sec. 3.1;
official ``videogvt/models/stylegan_discriminator_3d.py`` and ``videogvt/train_lib/losses.py``).

No normalisation, LeakyReLU(0.2), residual blocks that average-pool 2x2x2 (the official 3D code uses
plain average pooling, not blur). LeCam (Tseng et al. 2021) keeps D's outputs near EMA anchors of
its own past outputs on the other side: relu(r - E_f)^2 + relu(E_r - f)^2.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from magvit.config import DataConfig, TokenizerConfig


def pool(x: torch.Tensor) -> torch.Tensor:
    """2x2x2 average pooling; a time axis of 1 stays 1 (TF "same" pooling ignores padding)."""
    return F.avg_pool3d(x, (2 if x.shape[2] > 1 else 1, 2, 2))


class DResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv3d(c_in, c_in, 3, padding=1)
        self.conv2 = nn.Conv3d(c_in, c_out, 3, padding=1)
        self.skip = nn.Conv3d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = pool(F.leaky_relu(self.conv1(x), 0.2))
        h = F.leaky_relu(self.conv2(h), 0.2)
        return (self.skip(pool(x)) + h) / math.sqrt(2)


class Discriminator(nn.Module):
    """video [B, 3, T, H, W] -> logit [B]."""

    def __init__(self, cfg: TokenizerConfig, data: DataConfig):
        super().__init__()
        f = cfg.discriminator_filters
        widths = [f] + [f * m for m in cfg.discriminator_multipliers]
        self.conv_in = nn.Conv3d(3, f, 3, padding=1)
        self.blocks = nn.Sequential(*[DResBlock(a, b) for a, b in zip(widths, widths[1:], strict=False)])
        self.conv_out = nn.Conv3d(widths[-1], widths[-1], 3, padding=1)
        t, s = data.num_frames, data.resolution
        for _ in cfg.discriminator_multipliers:
            t, s = max(1, t // 2), s // 2
        if s < 1:
            raise ValueError(f"{len(cfg.discriminator_multipliers)} discriminator blocks downsample "
                             f"{data.resolution}px below one pixel")
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(widths[-1] * t * s * s, widths[-1]),
                                  nn.LeakyReLU(0.2), nn.Linear(widths[-1], 1))
        for module in self.modules():  # Xavier-uniform init (official code)
            if isinstance(module, nn.Conv3d | nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv_in(video), 0.2)
        h = F.leaky_relu(self.conv_out(self.blocks(h)), 0.2)
        return self.head(h).squeeze(1)


class LeCam(nn.Module):
    """LeCam regulariser with EMA anchors of D's mean outputs (buffers, so checkpoints keep them)."""

    def __init__(self, decay: float = 0.999):
        super().__init__()
        self.decay = decay
        self.register_buffer("ema_real", torch.zeros(()))
        self.register_buffer("ema_fake", torch.zeros(()))

    def forward(self, logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
        """relu(mean D(x) - E_f)^2 + relu(E_r - mean D(x^))^2 with the anchors before this step."""
        r, f = logits_real.mean(), logits_fake.mean()
        return F.relu(r - self.ema_fake).pow(2) + F.relu(self.ema_real - f).pow(2)

    @torch.no_grad()
    def update(self, logits_real: torch.Tensor, logits_fake: torch.Tensor) -> None:
        self.ema_real.mul_(self.decay).add_((1 - self.decay) * logits_real.mean())
        self.ema_fake.mul_(self.decay).add_((1 - self.decay) * logits_fake.mean())
