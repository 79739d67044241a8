"""The tokenizer f_T: video -> token ids -> video, with one switch for its architecture (``TokenizerConfig.kind``).

As the official ``videogvt/models/vqvae.py`` picks its encoder/decoder pair by name, ``ARCHITECTURES`` maps a kind
to its pair: ``magvit3d`` (the MAGVIT 3D-VQ, paper Sec. 3.1), ``vq2d`` (the MaskGIT-style per-frame 2D-VQ of
Table 7) and ``tats3d`` (the TATS-style 3D-VQ baseline of Table 7). The quantiser (``magvit.tokenizer.quantizer``)
sits between them.

Video convention: float ``[B, 3, T, H, W]`` in [0, 1] (no zero-centring, as the official code; ``zero_centre`` is a
scale adaptation).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from magvit.config import DataConfig, TokenizerConfig
from magvit.data.video import check_video
from magvit.tokenizer.layers import ResBlock
from magvit.tokenizer.magvit3d import Decoder, Encoder
from magvit.tokenizer.quantizer import VectorQuantizer
from magvit.tokenizer.tats import TATSDecoder, TATSEncoder

# kind -> (encoder, decoder) builder; construction order (encoder first) fixes the seeded initialisation
ARCHITECTURES: dict[str, Callable[[TokenizerConfig], tuple[nn.Module, nn.Module]]] = {
    "magvit3d": lambda cfg: (Encoder(cfg, temporal=True), Decoder(cfg, temporal=True)),
    "vq2d": lambda cfg: (Encoder(cfg, temporal=False), Decoder(cfg, temporal=False)),
    "tats3d": lambda cfg: (TATSEncoder(cfg), TATSDecoder(cfg)),
}
KINDS = tuple(ARCHITECTURES)


class VQTokenizer(nn.Module):
    """f_T: video -> token ids [B, t, h, w] and back (the 3D-VQ, or the per-frame 2D-VQ)."""

    def __init__(self, cfg: TokenizerConfig, data: DataConfig):
        super().__init__()
        if cfg.kind not in KINDS:
            raise ValueError(f"unknown tokenizer kind {cfg.kind!r}; choose from {', '.join(KINDS)}")
        if len(cfg.temporal_downsample) != len(cfg.channel_multipliers) - 1:
            raise ValueError(f"temporal_downsample needs {len(cfg.channel_multipliers) - 1} flags (one per "
                             f"downsample), got {cfg.temporal_downsample}")
        self.cfg, self.data = cfg, data
        self.temporal = cfg.kind != "vq2d"
        s = 2 ** (len(cfg.channel_multipliers) - 1)
        st = 2 ** sum(cfg.temporal_downsample) if self.temporal else 1
        if data.resolution % s or data.num_frames % st:
            raise ValueError(f"clips of {data.num_frames}x{data.resolution}x{data.resolution} are not divisible "
                             f"by the compression {st}x{s}x{s}")
        self.compression = (st, s, s)
        self.latent_shape = (data.num_frames // st, data.resolution // s, data.resolution // s)
        self.codebook_size = cfg.codebook_size
        self.encoder, self.decoder = ARCHITECTURES[cfg.kind](cfg)
        self.quantizer = VectorQuantizer(cfg.codebook_size, cfg.embedding_dim, cfg.commitment_weight,
                                         cfg.entropy_weight, restart_after=cfg.codebook_restart_after)
        if cfg.zero_init_residual:  # every residual branch starts silent: each block is its shortcut at init
            for block in self.modules():
                if isinstance(block, ResBlock):
                    nn.init.zeros_(block.conv2.conv.weight)

    def to_input(self, video: torch.Tensor) -> torch.Tensor:
        """[0, 1] video -> what the encoder sees: as is (paper/code) or in [-1, 1] (``zero_centre``)."""
        return video * 2 - 1 if self.cfg.zero_centre else video

    def from_output(self, out: torch.Tensor) -> torch.Tensor:
        """The decoder's output -> [0, 1] video (the inverse of ``to_input``)."""
        return (out + 1) / 2 if self.cfg.zero_centre else out

    def check_input(self, video: torch.Tensor) -> None:
        check_video(video)
        expected = (self.data.num_frames, self.data.resolution, self.data.resolution)
        if tuple(video.shape[2:]) != expected:
            raise ValueError(f"this tokenizer takes clips of T x H x W = {expected}, got {tuple(video.shape[2:])}")

    def forward(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """video -> (reconstruction, ids, quantizer losses); gradients flow straight through the VQ."""
        self.check_input(video)
        z_q, ids, losses = self.quantizer(self.encoder(self.to_input(video)))
        return self.from_output(self.decoder(z_q)), ids, losses

    @torch.no_grad()
    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, 3, T, H, W] in [0, 1] -> token ids [B, t, h, w] (long)."""
        self.check_input(video)
        return self.quantizer(self.encoder(self.to_input(video)))[1]

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """token ids [B, t, h, w] -> video [B, 3, T, H, W] (not clipped; clip for evaluation)."""
        if ids.dtype not in (torch.int64, torch.int32) or ids.ndim != 4:
            raise ValueError(f"ids must be an integer tensor [B, t, h, w], got {ids.dtype} {tuple(ids.shape)}")
        if tuple(ids.shape[1:]) != self.latent_shape:
            raise ValueError(f"ids must have latent shape {self.latent_shape}, got {tuple(ids.shape[1:])}")
        if ids.min() < 0 or ids.max() >= self.codebook_size:
            raise ValueError(f"token ids must lie in [0, {self.codebook_size}), "
                             f"got [{int(ids.min())}, {int(ids.max())}]")
        return self.from_output(self.decoder(self.quantizer.lookup(ids.long())))


def build_tokenizer(cfg: TokenizerConfig, data: DataConfig) -> VQTokenizer:
    """The tokenizer of ``cfg`` for clips of ``data`` (untrained)."""
    return VQTokenizer(cfg, data)
