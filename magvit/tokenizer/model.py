"""The MAGVIT 3D-VQ tokenizer and the MaskGIT-style 2D-VQ (paper Sec. 3.1; spec Sec. 1.1-1.3, 1.7).

Encoder: conv -> per level R residual blocks, then average-pool downsampling (3D in the shallow
levels where ``temporal_downsample`` is true, 2D deeper) -> R blocks -> GN, swish, 1x1 conv to the
code dimension. Decoder mirrors it with nearest-neighbour upsampling + conv (2D first, 3D after).
Convolutions pad explicitly: reflect padding (paper) or zeros (official code), a config switch.
The 2D-VQ is the same network with (1, 3, 3) kernels and no temporal pooling: per-frame tokens.

Video convention: float ``[B, 3, T, H, W]`` in [0, 1] (no zero-centring, as the official code).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from magvit.config import DataConfig, TokenizerConfig
from magvit.video import check_video

PADDINGS = ("reflect", "zeros")
KINDS = ("magvit3d", "vq2d", "tats3d")  # tats3d: the TATS-style baseline (magvit/tats.py)


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
    """A "same" convolution with explicit padding: reflect (paper Sec. 3.1) or zeros (official code).

    Kernel (kt, k, k); kt = 1 makes it a per-frame 2D convolution (the 2D-VQ, and what inflation
    turns into a 3D kernel).
    """

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int, int], padding: str, bias: bool = True):
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"unknown padding {padding!r}; choose from {', '.join(PADDINGS)}")
        self.padding = padding
        self.pad = [p for k in reversed(kernel) for p in ((k - 1) // 2, k // 2)]  # W, H, T order for F.pad
        self.conv = nn.Conv3d(c_in, c_out, kernel, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pad):
            x = F.pad(x, self.pad, mode="reflect" if self.padding == "reflect" else "constant")
        return self.conv(x)


class ResBlock(nn.Module):
    """h = conv(swish(GN(x))) twice, no bias; 1x1x1 shortcut when the width changes (spec Sec. 1.1)."""

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int, int], padding: str, norm: str = "group"):
        super().__init__()
        self.norm1, self.conv1 = norm_layer(c_in, norm), Conv(c_in, c_out, kernel, padding, bias=False)
        self.norm2, self.conv2 = norm_layer(c_out, norm), Conv(c_out, c_out, kernel, padding, bias=False)
        self.shortcut = nn.Identity() if c_in == c_out else nn.Conv3d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.shortcut(x)


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


class Upsample(nn.Module):
    """Nearest-neighbour x2 in H, W (and T when temporal), then a conv keeping the width."""

    def __init__(self, width: int, temporal: bool, kernel: tuple[int, int, int], padding: str):
        super().__init__()
        self.scale = (2 if temporal else 1, 2, 2)
        self.conv = Conv(width, width, kernel, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=self.scale, mode="nearest"))


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
        return self.conv_out(F.silu(self.norm_out(h)))  # no output activation (spec Sec. 1.2)


class VectorQuantizer(nn.Module):
    """Plain VQ with a learned codebook, straight-through gradients and the entropy loss (spec Sec. 1.3)."""

    def __init__(self, codebook_size: int, dim: int, commitment_weight: float = 0.25,
                 entropy_weight: float = 0.1, entropy_temperature: float = 0.01, restart_after: int = 0):
        super().__init__()
        bound = math.sqrt(3.0 / codebook_size)  # variance scaling, fan_in = codebook size
        self.codebook = nn.Parameter(torch.empty(codebook_size, dim).uniform_(-bound, bound))
        self.commitment_weight, self.entropy_weight = commitment_weight, entropy_weight
        self.entropy_temperature = entropy_temperature
        # Dead-code restarts (a scale adaptation, off in the paper/code): a code unused for ``restart_after``
        # training steps is moved onto a latent of the current batch. Buffers, so checkpoints carry them.
        self.restart_after = restart_after
        self.register_buffer("steps_unused", torch.zeros(codebook_size, dtype=torch.long))
        self.register_buffer("initialised", torch.tensor(False))

    @torch.no_grad()
    def restart_dead_codes(self, flat: torch.Tensor, ids: torch.Tensor) -> None:
        """First training step: every code becomes a random latent z of the batch (data init); later, codes
        unused for ``restart_after`` steps do. Draws from torch's global RNG, so seeded runs repeat."""
        used = torch.bincount(ids, minlength=self.codebook.shape[0]) > 0
        self.steps_unused.add_(1).masked_fill_(used, 0)
        dead = torch.ones_like(used) if not self.initialised else self.steps_unused >= self.restart_after
        self.initialised.fill_(True)
        n = int(dead.sum())
        if n == 0:
            return
        picks = torch.randint(0, flat.shape[0], (n,), device=flat.device)
        self.codebook.data[dead] = flat[picks]
        self.steps_unused[dead] = 0

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """Squared Euclidean distances [N, K] of latents x [N, D] to every code."""
        e = self.codebook
        return x.pow(2).sum(1, keepdim=True) - 2 * x @ e.t() + e.pow(2).sum(1)[None]

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """z [B, D, t, h, w] -> (z_q with straight-through gradients, ids [B, t, h, w], losses)."""
        b, _, t, h, w = z.shape
        flat = rearrange(z, "b d t h w -> (b t h w) d")
        d = self.distances(flat)
        ids = d.argmin(1)
        if self.training and self.restart_after > 0:
            self.restart_dead_codes(flat.detach(), ids)
            d = self.distances(flat)  # codes moved: assign against the new codebook
            ids = d.argmin(1)
        q = self.codebook[ids]
        losses = {
            "commitment": self.commitment_weight * F.mse_loss(flat, q.detach()),
            "codebook": F.mse_loss(q, flat.detach()),
        }
        if self.entropy_weight > 0:  # sample entropy low (confident), average entropy high (all codes used)
            logits = -d / self.entropy_temperature
            probs = logits.softmax(1)
            sample_entropy = -(probs * (logits + 1e-5).log_softmax(1)).sum(1).mean()
            avg_probs = probs.mean(0)
            avg_entropy = -(avg_probs * (avg_probs + 1e-5).log()).sum()
            losses["entropy"] = self.entropy_weight * (sample_entropy - avg_entropy)
        q = flat + (q - flat).detach()  # straight-through estimator
        z_q = rearrange(q, "(b t h w) d -> b d t h w", b=b, t=t, h=h, w=w)
        return z_q, rearrange(ids, "(b t h w) -> b t h w", b=b, t=t, h=h, w=w), losses

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, t, h, w] -> z_q [B, D, t, h, w]."""
        return rearrange(self.codebook[ids], "b t h w d -> b d t h w")


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
        if cfg.kind == "tats3d":
            from magvit.tats import TATSDecoder, TATSEncoder  # tats builds on this module's blocks

            self.encoder, self.decoder = TATSEncoder(cfg), TATSDecoder(cfg)
        else:
            self.encoder, self.decoder = Encoder(cfg, self.temporal), Decoder(cfg, self.temporal)
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
