"""The MAGVIT 3D-VQ's encoder and decoder, and the MaskGIT-style 2D-VQ as their per-frame variant.

Paper Sec. 3.1 and the official ``videogvt/models/enc_dec_3dcnn.py``. Encoder: conv -> per level R residual
blocks, then average-pool downsampling (3D in the shallow levels where ``temporal_downsample`` is true, 2D deeper)
-> R blocks -> GN, swish, 1x1 conv to the code dimension. The decoder mirrors it with nearest-neighbour upsampling +
conv (2D first, 3D after) and ends in GN -> swish -> conv to RGB, with no output activation. ``temporal=False``
gives (1, 3, 3) kernels and no temporal pooling: the 2D-VQ (``videogvt/models/enc_dec_2dcnn.py``), per-frame tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from magvit.config import TokenizerConfig
from magvit.tokenizer.layers import Conv, ResBlock, Upsample, norm_layer


class Encoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig, temporal: bool):
        super().__init__()
        kt = 3 if temporal else 1
        kernel, f, m = (kt, 3, 3), cfg.filters, cfg.channel_multipliers
        self.conv_in = Conv(3, f * m[0], kernel, cfg.padding, bias=False)
        blocks: list[nn.Module] = []
        width = f * m[0]
        for i, mult in enumerate(m):
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(width, f * mult, kernel, cfg.padding, cfg.norm))
                width = f * mult
            if i < len(m) - 1:  # average pooling, 3D where the temporal flag is set (shallow levels)
                pool_t = 2 if (temporal and cfg.temporal_downsample[i]) else 1
                blocks.append(nn.AvgPool3d((pool_t, 2, 2)))
        blocks += [ResBlock(width, width, kernel, cfg.padding, cfg.norm) for _ in range(cfg.num_res_blocks)]
        self.blocks = nn.Sequential(*blocks)
        # paper/code: GN before the latent projection; it normalises each clip on its own (see
        # TokenizerConfig.latent_norm), so ``latent_norm=False`` keeps only the swish
        self.norm_out = norm_layer(width, cfg.norm) if cfg.latent_norm else nn.Identity()
        self.conv_out = nn.Conv3d(width, cfg.embedding_dim, 1)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.conv_in(video))  # [B, C, t, h, w]
        return self.conv_out(F.silu(self.norm_out(h)))  # [B, D, t, h, w]



class Decoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig, temporal: bool):
        super().__init__()
        kt = 3 if temporal else 1
        kernel, f, m = (kt, 3, 3), cfg.filters, cfg.channel_multipliers
        width = f * m[-1]
        self.conv_in = Conv(cfg.embedding_dim, width, kernel, cfg.padding)
        blocks: list[nn.Module] = [ResBlock(width, width, kernel, cfg.padding, cfg.norm)
                                   for _ in range(cfg.num_res_blocks)]
        for i in reversed(range(len(m))):
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(width, f * m[i], kernel, cfg.padding, cfg.norm))
                width = f * m[i]
            if i > 0:  # mirror of the encoder: spatial-only levels are undone first
                blocks.append(Upsample(width, temporal and cfg.temporal_downsample[i - 1], kernel, cfg.padding))
        self.blocks = nn.Sequential(*blocks)
        # paper/code: GN -> swish -> conv to RGB. GN here removes each clip's per-channel mean and scale from the
        # only path to the output (see TokenizerConfig.output_norm); ``output_norm=False`` keeps only the swish
        self.norm_out = norm_layer(width, cfg.norm) if cfg.output_norm else nn.Identity()
        self.conv_out = Conv(width, 3, kernel, cfg.padding)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.conv_in(z))
        return self.conv_out(F.silu(self.norm_out(h)))  # no output activation (official code)

