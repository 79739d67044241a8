"""The per-frame image perceptual loss, with a pluggable feature network (paper Sec. 3.1;
official ``videogvt/train_lib/losses.py``, ``pretrained_model_utils.py``).

The paper uses an "image perceptual loss" per frame (VQGAN's LPIPS-VGG; the official code uses the
logits of an ImageNet ResNet-50). Those pretrained weights cannot be downloaded here, so:

- ``perceptual_network = <path>``: a TorchScript module mapping frames [N, 3, H, W] in [0, 1] to a
  tensor or a list of feature tensors (e.g. a traced VGG16 or ResNet-50) -- real weights, used as given.
  A TorchScript file is a program: loading and running it executes the code it contains with this
  process's rights (unlike the cache, which ``torch.load(weights_only=True)`` reads as data only). It is
  loaded only from the path you set; give only a file you made or trust;
- ``perceptual_network = "frame_net"``: a small 2D CNN trained (and cached) on frames of the stand-in
  training split to tell the benchmark a frame comes from and which corruption (none, blur, noise,
  blockiness) it carries, so its features see the artifacts a tokenizer makes. It is never the proxy
  FVD evaluator: training the tokenizer on the evaluation features would inflate the metric.

The loss is LPIPS-style: per layer, unit-normalise features over channels, mean squared difference,
summed over layers; frames of real and reconstructed clips are compared one to one (T folded into B).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from magvit import data
from magvit.config import Profile
from magvit.data.procedural import GENERATOR_VERSION
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.train import compound_lr, fit, set_lr

CORRUPTIONS = ("clean", "blur", "noise", "blocky")


class FrameNet(nn.Module):
    """frames [N, 3, H, W] -> list of features per stage (and logits of its two training heads)."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64), num_benchmarks: int = len(data.BENCHMARKS)):
        super().__init__()
        stages, c_in = [], 3
        for width in widths:
            stages.append(nn.Sequential(nn.Conv2d(c_in, width, 3, padding=1), nn.GroupNorm(8, width), nn.ReLU(),
                                        nn.Conv2d(width, width, 3, padding=1), nn.GroupNorm(8, width), nn.ReLU()))
            c_in = width
        self.stages = nn.ModuleList(stages)
        # heads read the mean and the spatial std of each channel: corruptions change texture, not means
        self.benchmark_head = nn.Linear(2 * c_in, num_benchmarks)
        self.corruption_head = nn.Linear(2 * c_in, len(CORRUPTIONS))

    def features(self, frames: torch.Tensor) -> list[torch.Tensor]:
        feats, h = [], frames
        for i, stage in enumerate(self.stages):
            h = stage(h if i == 0 else F.avg_pool2d(h, 2))
            feats.append(h)
        return feats

    def forward(self, frames: torch.Tensor) -> list[torch.Tensor]:
        return self.features(frames)

    def logits(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        last = self.features(frames)[-1]
        pooled = torch.cat([last.mean((2, 3)), last.std((2, 3))], 1)
        return self.benchmark_head(pooled), self.corruption_head(pooled)


def corrupt(frames: torch.Tensor, kinds: torch.Tensor) -> torch.Tensor:
    """Apply corruption ``kinds[n]`` (index into CORRUPTIONS) to frame n; frames [N, 3, H, W]."""
    blur = F.avg_pool2d(F.pad(frames, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    noise = (frames + 0.08 * torch.randn_like(frames)).clamp(0, 1)
    blocky = F.interpolate(F.avg_pool2d(frames, 2), scale_factor=2, mode="nearest")
    options = torch.stack([frames, blur, noise, blocky])  # [4, N, 3, H, W]
    return options[kinds, torch.arange(frames.shape[0])]


@dataclass(frozen=True)
class FrameNetKey:
    """What identifies a trained frame network: its training steps and the frame geometry."""

    steps: int
    num_frames: int
    resolution: int
    batch_clips: int = 3
    frames_per_clip: int = 16
    lr: float = 2e-3
    data_version: str = GENERATOR_VERSION  # the stand-ins it was trained on (their version)


def get_frame_net(profile: Profile, seed: int = 0, store: ArtifactStore | None = None) -> FrameNet:
    """The stand-in perceptual network of ``profile`` (trained on train-split frames, cached), frozen."""
    check_seed(seed)
    key = FrameNetKey(profile.tokenizer.perceptual_steps, profile.data.num_frames, profile.data.resolution)
    dev = profile.device
    torch.manual_seed(seed)
    net = FrameNet().to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=key.lr)

    def step_fn(step: int) -> dict[str, float]:
        set_lr(opt, compound_lr(step, key.lr, 20, key.steps))
        video, labels = data.mixed_batch(step, key.batch_clips, key.num_frames, key.resolution, seed=seed)
        video = video.to(dev)  # [B, 3, T, H, W]
        pick = torch.randint(0, key.num_frames, (video.shape[0], key.frames_per_clip), device=dev)
        frames = rearrange(video[torch.arange(video.shape[0], device=dev)[:, None], :, pick],
                           "b f c h w -> (b f) c h w")
        bench = labels["benchmark"].to(dev).repeat_interleave(key.frames_per_clip)
        kinds = torch.randint(0, len(CORRUPTIONS), (frames.shape[0],), device=dev)
        logit_bench, logit_corr = net.logits(corrupt(frames, kinds))
        loss_bench, loss_corr = F.cross_entropy(logit_bench, bench), F.cross_entropy(logit_corr, kinds)
        opt.zero_grad()
        (loss_bench + loss_corr).backward()
        opt.step()
        return {"loss": (loss_bench + loss_corr).item(), "benchmark_ce": loss_bench.item(),
                "corruption_ce": loss_corr.item(),
                "corruption_acc": (logit_corr.argmax(1) == kinds).float().mean().item()}

    fit("perceptual_frame_net", key, seed, {"net": net}, {"opt": opt}, step_fn, key.steps, store=store,
        checkpoint_every=profile.checkpoint_every, device=dev, desc="perceptual frame network")
    return net.eval().requires_grad_(False)


def load_feature_network(spec: str, profile: Profile, seed: int = 0,
                         store: ArtifactStore | None = None) -> nn.Module:
    """``"frame_net"`` -> the stand-in; otherwise ``spec`` is a path to a TorchScript feature network.

    Loading a TorchScript file runs the code in it: pass only a file you made or trust.
    """
    if spec == "frame_net":
        return get_frame_net(profile, seed, store)
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(
            f"perceptual_network {spec!r} is neither 'frame_net' nor an existing file. To use real weights, save a "
            "TorchScript module mapping frames [N, 3, H, W] in [0, 1] to features, e.g. "
            "torch.jit.trace(vgg16_features, torch.rand(1, 3, 224, 224)).save(path)")
    try:
        return torch.jit.load(str(path), map_location=profile.device).eval()
    except (RuntimeError, ValueError) as err:  # a torn file, a plain state dict, not TorchScript at all
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"perceptual_network {spec!r} is not a readable TorchScript module ({first}). Save one "
                         "with torch.jit.trace(network, torch.rand(1, 3, 224, 224)).save(path); a state dict "
                         "(torch.save) is not enough") from None


class PerceptualLoss(nn.Module):
    """LPIPS-style distance between the per-frame features of two clips [B, 3, T, H, W]."""

    def __init__(self, network: nn.Module):
        super().__init__()
        for param in network.parameters():  # frozen (a loop: TorchScript modules lack requires_grad_)
            param.requires_grad_(False)
        self.network = network

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        if real.shape != fake.shape:
            raise ValueError(f"perceptual loss needs clips of equal shape, got {tuple(real.shape)} and "
                             f"{tuple(fake.shape)}")
        frames = rearrange(torch.cat([real, fake]), "b c t h w -> (b t) c h w")  # one pass for both
        feats = self.network(frames)
        feats = [feats] if isinstance(feats, torch.Tensor) else list(feats)
        loss = frames.new_zeros(())
        for f in feats:
            if f.ndim == 4:  # feature map [2N, C, h, w]: unit norm over channels at each site (LPIPS)
                f = f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                f_real, f_fake = f.chunk(2)
                loss = loss + (f_real - f_fake).pow(2).sum(1).mean()
            else:  # logits / pooled features [2N, K] (the official code's ResNet-50 logits)
                f_real, f_fake = f.chunk(2)
                loss = loss + F.mse_loss(f_fake, f_real)
        return loss
