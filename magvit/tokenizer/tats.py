"""The TATS-style 3D-VQ baseline of Table 7 (Ge et al. 2022, "TATS"; paper Sec. 5.3).

Its own architecture, not MAGVIT's: downsampling by *strided* 3D convolutions (kernel 4, stride 2
in H, W and in T where the level compresses time), upsampling by *transposed* 3D convolutions, zero
padding, residual blocks of 3D convolutions in between, no inflation. Widths, code book and
compression come from the same :class:`~magvit.config.TokenizerConfig`, so sizes stay comparable to
the MAGVIT 3D-VQ of the profile (as in the paper's table, which compares at equal compression).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from magvit.config import TokenizerConfig
from magvit.tokenizer.layers import ResBlock, norm_layer


class TATSEncoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        f, m = cfg.filters, cfg.channel_multipliers
        self.conv_in = nn.Conv3d(3, f * m[0], 3, padding=1)
        blocks: list[nn.Module] = []
        width = f * m[0]
        for i, mult in enumerate(m):
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(width, f * mult, (3, 3, 3), "zeros", cfg.norm))
                width = f * mult
            if i < len(m) - 1:  # strided conv, kernel 4 (3 in T without temporal stride), one zero pad per side
                st = 2 if cfg.temporal_downsample[i] else 1
                blocks.append(nn.Conv3d(width, width, (2 + st, 4, 4), stride=(st, 2, 2), padding=1))
        blocks += [ResBlock(width, width, (3, 3, 3), "zeros", cfg.norm) for _ in range(cfg.num_res_blocks)]
        self.blocks = nn.Sequential(*blocks)
        self.norm_out = norm_layer(width, cfg.norm) if cfg.latent_norm else nn.Identity()  # as the MAGVIT encoder
        self.conv_out = nn.Conv3d(width, cfg.embedding_dim, 1)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.conv_in(video))  # [B, C, t, h, w]
        return self.conv_out(F.silu(self.norm_out(h)))  # [B, D, t, h, w]


class TATSDecoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        f, m = cfg.filters, cfg.channel_multipliers
        width = f * m[-1]
        self.conv_in = nn.Conv3d(cfg.embedding_dim, width, 3, padding=1)
        blocks: list[nn.Module] = [ResBlock(width, width, (3, 3, 3), "zeros", cfg.norm)
                                   for _ in range(cfg.num_res_blocks)]
        for i in reversed(range(len(m))):
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(width, f * m[i], (3, 3, 3), "zeros", cfg.norm))
                width = f * m[i]
            if i > 0:  # transposed conv undoes the matching strided conv
                st = 2 if cfg.temporal_downsample[i - 1] else 1
                blocks.append(nn.ConvTranspose3d(width, width, (2 + st, 4, 4), stride=(st, 2, 2), padding=1))
        self.blocks = nn.Sequential(*blocks)
        self.norm_out = norm_layer(width, cfg.norm) if cfg.output_norm else nn.Identity()  # as the MAGVIT decoder
        self.conv_out = nn.Conv3d(width, 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.conv_in(z))
        return self.conv_out(F.silu(self.norm_out(h)))
