"""The proxy evaluator: a compact 3D-CNN trained by the study on the stand-in benchmarks.

It plays the role of the paper's I3D (FVD, Sec. 4.1; official ``videogvt/train_lib/frechet_distance.py``) and
C3D (IS; ``train_lib/inception_score.py``), which cannot be downloaded here. Heads: the benchmark identity
(pushbot / shapes / scenes), the ``shapes`` class, and two motion attributes (speed and direction buckets).
Its penultimate layer (``feature_dim`` wide, far below the sample counts of every profile so covariances are
well estimated) gives "FVD (proxy)"; its ``shapes`` class posterior gives "IS (proxy)". Trained once per
profile and cached in the artifact store. Notebook 02 validates it before any table relies on it.

The trunk (:func:`motion_trunk`) sees frames and frame differences, pools space only, so every layer keeps all
15 time steps (the last one with temporal dilation 2: a receptive field of 11 frames), and ends with the mean
*and* the maximum over (T, H, W): a ``shapes`` class is the motion pattern of one small object, which a mean over
the whole clip dilutes, and a ``scenes`` direction is a camera pan, which the mean sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from magvit import data
from magvit.config import DataConfig, EvaluatorConfig, Profile
from magvit.data.probe import with_differences
from magvit.data.procedural import GENERATOR_VERSION
from magvit.data.video import check_video
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.train import compound_lr, fit, set_lr
from magvit.metrics.frechet import FVDResult, fvd
from magvit.metrics.image import gaussian_window

NUM_SPEEDS, NUM_DIRECTIONS = 3, 4
# the network's identity in the artifact key: bump it whenever ProxyNet changes, so the cached weights of an
# older network are never loaded into a newer one ("v1": the probe's trunk, time pooled after two layers)
ARCHITECTURE = "motion-v2"


@dataclass(frozen=True)
class ProxyKey:
    """What identifies a trained evaluator: its own config and the clip geometry it saw."""

    evaluator: EvaluatorConfig
    num_frames: int
    resolution: int
    architecture: str = ARCHITECTURE
    data_version: str = GENERATOR_VERSION  # the stand-ins it was trained on (their version)


def _conv(c_in: int, c_out: int, dilation: tuple[int, int, int] = (1, 1, 1)) -> list[nn.Module]:
    """3x3x3 convolution (no bias: BatchNorm follows), BatchNorm, ReLU; 'same' size."""
    return [nn.Conv3d(c_in, c_out, 3, padding=dilation, dilation=dilation, bias=False), nn.BatchNorm3d(c_out),
            nn.ReLU()]


class MeanMaxPool(nn.Module):
    """[B, C, T, H, W] -> [B, 2C]: mean and maximum over time and space."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean((2, 3, 4)), x.amax((2, 3, 4))], 1)


def motion_trunk(width: int) -> nn.Sequential:
    """Frames + differences [B, 6, T', H, W] -> [B, 8 * width].

    Widths w, 2w, 4w, 4w; a 2x2 spatial max pool after each of the first three convolutions and none in time;
    the fourth convolution dilates time by 2. BatchNorm makes it train in a few hundred steps.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    return nn.Sequential(
        *_conv(6, width), nn.MaxPool3d((1, 2, 2)),
        *_conv(width, 2 * width), nn.MaxPool3d((1, 2, 2)),
        *_conv(2 * width, 4 * width), nn.MaxPool3d((1, 2, 2)),
        *_conv(4 * width, 4 * width, dilation=(2, 1, 1)),
        MeanMaxPool(),
    )


class ProxyNet(nn.Module):
    """The proxy evaluator's network: :func:`motion_trunk`, a ``feature_dim`` embedding (the FVD features), heads."""

    def __init__(self, cfg: EvaluatorConfig) -> None:
        super().__init__()
        if cfg.feature_dim < 1:
            raise ValueError(f"feature_dim must be >= 1, got {cfg.feature_dim}")
        self.trunk = motion_trunk(cfg.width)
        self.embed = nn.Sequential(nn.Linear(8 * cfg.width, cfg.feature_dim), nn.ReLU())
        self.heads = nn.ModuleDict({
            "benchmark": nn.Linear(cfg.feature_dim, len(data.BENCHMARKS)),
            "label": nn.Linear(cfg.feature_dim, data.num_classes("shapes")),
            "speed": nn.Linear(cfg.feature_dim, NUM_SPEEDS),
            "direction": nn.Linear(cfg.feature_dim, NUM_DIRECTIONS),
        })

    def features(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, 3, T, H, W] -> features [B, feature_dim]."""
        check_video(video)
        if video.shape[2] < 2:
            raise ValueError(f"the proxy evaluator needs at least 2 frames (it sees differences), got "
                             f"shape {tuple(video.shape)}")
        return self.embed(self.trunk(with_differences(video)))

    def forward(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.features(video)
        return {name: head(h) for name, head in self.heads.items()}


def blur(video: torch.Tensor, sigma: float) -> torch.Tensor:
    """Spatial Gaussian blur per frame (sigma in pixels), reflect padding."""
    if sigma <= 0:
        return video
    radius = max(1, int(3 * sigma + 0.5))
    g = gaussian_window(2 * radius + 1, sigma).float()
    b, c, t, h, w = video.shape
    x = video.permute(0, 2, 1, 3, 4).reshape(b * t * c, 1, h, w)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), g.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), g.view(1, 1, -1, 1))
    return x.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)


# the block means of the tokenizer's retention dissection (t, h, w): what a token grid of that compression keeps at best
DEGRADE_BLOCKS = ((4, 4, 4), (2, 4, 4), (1, 4, 4), (4, 2, 2), (2, 2, 2), (4, 1, 1))


def degrade(video: torch.Tensor, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """A copy of ``video`` [B, 3, T, H, W] whose first ``round(fraction * B)`` clips are degraded, each one way drawn
    at random: a block mean over one of ``DEGRADE_BLOCKS`` (trilinear back to full size), a spatial Gaussian blur
    (sigma 0.5-1.5 px), or Gaussian noise (std up to 0.05). Labels stay valid: the motion is kept at the token grid's
    scale. Used to train the evaluator (``EvaluatorConfig.augment``)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"augment must be a share in [0, 1], got {fraction}")
    out = video.clone()
    n = round(fraction * video.shape[0])
    for i in range(n):
        kind = int(torch.randint(3, (1,), generator=generator))
        clip = video[i:i + 1]
        if kind == 0:
            block = DEGRADE_BLOCKS[int(torch.randint(len(DEGRADE_BLOCKS), (1,), generator=generator))]
            out[i:i + 1] = F.interpolate(F.avg_pool3d(clip, block), size=clip.shape[2:], mode="trilinear",
                                         align_corners=False)
        elif kind == 1:
            out[i:i + 1] = blur(clip, 0.5 + float(torch.rand(1, generator=generator)))
        else:
            std = 0.05 * float(torch.rand(1, generator=generator))
            out[i:i + 1] = (clip + std * torch.randn(clip.shape, generator=generator)).clamp(0, 1)
    return out


def proxy_loss(logits: dict[str, torch.Tensor], labels: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Cross-entropy per head; -1 labels (not applicable) are ignored."""
    return {name: F.cross_entropy(out, labels[name].to(out.device), ignore_index=-1)
            for name, out in logits.items()}


class ProxyEvaluator:
    """A trained ProxyNet in eval mode: ``features`` for FVD (proxy), ``class_probs`` for IS (proxy)."""

    def __init__(self, net: ProxyNet, device: str = "cpu", batch_size: int = 64, log: pd.DataFrame | None = None):
        self.net = net.to(device).eval()
        self.device, self.batch_size, self.log = device, batch_size, log

    @torch.inference_mode()
    def _run(self, video: torch.Tensor, fn) -> np.ndarray:
        check_video(video)
        out = [fn(video[i:i + self.batch_size].to(self.device)).double().cpu()
               for i in range(0, video.shape[0], self.batch_size)]
        return torch.cat(out).numpy()

    def features(self, video: torch.Tensor) -> np.ndarray:
        """[B, 3, T, H, W] in [0, 1] -> [B, feature_dim] float64."""
        return self._run(video, self.net.features)

    def class_probs(self, video: torch.Tensor) -> np.ndarray:
        """Posterior over the ``shapes`` classes [B, K] (for IS (proxy))."""
        return self._run(video, lambda v: self.net(v)["label"].softmax(-1))

    def predict(self, video: torch.Tensor, head: str) -> np.ndarray:
        return self._run(video, lambda v: self.net(v)[head].argmax(-1).float()).astype(int)


def get_evaluator(profile: Profile, seed: int = 0, store: ArtifactStore | None = None) -> ProxyEvaluator:
    """The profile's proxy evaluator: loaded from the cache, or trained (and cached) if missing."""
    check_seed(seed)
    cfg = profile.evaluator
    key = ProxyKey(cfg, profile.data.num_frames, profile.data.resolution)
    torch.manual_seed(seed)
    net = ProxyNet(cfg).to(profile.device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)

    draw = data.StepBatches(partial(data.mixed_batch, batch_size=cfg.batch_size, num_frames=profile.data.num_frames,
                                    resolution=profile.data.resolution, seed=seed), cfg.steps, profile.speed.workers)

    def step_fn(step: int) -> dict[str, float]:
        video, labels = draw(step)  # drawn ahead by profile.speed.workers processes (0: here)
        if cfg.augment > 0:  # the batch is ordered by benchmark: degrade a random subset of every benchmark's share
            # seeded per step, so that a run resumed from a checkpoint degrades the same clips as one that never stopped
            augment_generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
            order = torch.randperm(video.shape[0], generator=augment_generator)
            video, labels = video[order], {k: v[order] for k, v in labels.items()}
            video = degrade(video, cfg.augment, augment_generator)
        set_lr(opt, compound_lr(step, cfg.lr, max(1, cfg.steps // 20), cfg.steps))
        losses = proxy_loss(net(video.to(profile.device)), labels)
        total = sum(losses.values())
        opt.zero_grad()
        total.backward()
        opt.step()
        return {"total": total.item(), **{k: v.item() for k, v in losses.items()}}

    log = fit("proxy_evaluator", key, seed, {"net": net}, {"opt": opt}, step_fn, cfg.steps, store=store,
              checkpoint_every=profile.checkpoint_every, device=profile.device, desc="proxy evaluator")
    return ProxyEvaluator(net, profile.device, profile.eval.batch_size, log)


def heldout_accuracy(evaluator: ProxyEvaluator, cfg: DataConfig, num_clips: int, seed: int = 0) -> pd.DataFrame:
    """Accuracy of every head on held-out (test split) clips, with the chance level beside it."""
    rows = []
    for name in data.BENCHMARKS:
        video, labels = data.get_batch(data.load(name, "test", cfg.num_frames, cfg.resolution, seed),
                                       range(num_clips))
        for head, k in (("benchmark", 3), ("label", data.num_classes("shapes")), ("speed", NUM_SPEEDS),
                        ("direction", NUM_DIRECTIONS)):
            target = labels[head].numpy()
            valid = target >= 0  # -1: not applicable to this clip (e.g. the direction of a shapes clip that stays)
            if not valid.any():
                continue
            pred = evaluator.predict(video, head)
            rows.append({"benchmark": name, "head": head, "accuracy": float((pred == target)[valid].mean()),
                         "chance": 1 / k, "clips": int(valid.sum())})
    return pd.DataFrame(rows)


def proxy_fvd(evaluator: ProxyEvaluator, real_video: torch.Tensor, fake_video: torch.Tensor,
              num_bootstrap: int = 200, seed: int = 0) -> FVDResult:
    """FVD (proxy) between two sets of videos [N, 3, T, H, W] in [0, 1]."""
    return fvd(evaluator.features(real_video), evaluator.features(fake_video), num_bootstrap, seed)
