"""The proxy evaluator: a compact 3D-CNN trained by the study on the stand-in benchmarks.

It plays the role of the paper's I3D (FVD) and C3D (IS), which cannot be downloaded here. Heads:
the benchmark identity (pushbot / shapes / scenes), the ``shapes`` class, and two motion attributes
(speed and direction buckets). Its penultimate layer (``feature_dim`` wide, far below the sample
counts of every profile so covariances are well estimated) gives "FVD (proxy)"; its ``shapes``
class posterior gives "IS (proxy)". Trained once per profile and cached in the artifact store.
The notebook 02 validates it before any table relies on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from magvit import data
from magvit.config import DataConfig, EvaluatorConfig, Profile
from magvit.data.probe import video_trunk, with_differences
from magvit.data.video import check_video
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.train import compound_lr, fit, set_lr
from magvit.metrics.frechet import FVDResult, fvd

NUM_SPEEDS, NUM_DIRECTIONS = 3, 4


@dataclass(frozen=True)
class ProxyKey:
    """What identifies a trained evaluator: its own config and the clip geometry it saw."""

    evaluator: EvaluatorConfig
    num_frames: int
    resolution: int


class ProxyNet(nn.Module):
    def __init__(self, cfg: EvaluatorConfig) -> None:
        super().__init__()
        self.trunk = video_trunk(cfg.width)
        self.embed = nn.Sequential(nn.Linear(2 * cfg.width, cfg.feature_dim), nn.ReLU())
        self.heads = nn.ModuleDict({
            "benchmark": nn.Linear(cfg.feature_dim, len(data.BENCHMARKS)),
            "label": nn.Linear(cfg.feature_dim, data.num_classes("shapes")),
            "speed": nn.Linear(cfg.feature_dim, NUM_SPEEDS),
            "direction": nn.Linear(cfg.feature_dim, NUM_DIRECTIONS),
        })

    def features(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, 3, T, H, W] -> features [B, feature_dim]."""
        return self.embed(self.trunk(with_differences(video)))

    def forward(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.features(video)
        return {name: head(h) for name, head in self.heads.items()}


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

    def step_fn(step: int) -> dict[str, float]:
        video, labels = data.mixed_batch(step, cfg.batch_size, profile.data.num_frames, profile.data.resolution,
                                         seed=seed)
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
            if (target < 0).all():
                continue
            pred = evaluator.predict(video, head)
            rows.append({"benchmark": name, "head": head, "accuracy": float((pred == target).mean()),
                         "chance": 1 / k, "clips": num_clips})
    return pd.DataFrame(rows)


def proxy_fvd(evaluator: ProxyEvaluator, real_video: torch.Tensor, fake_video: torch.Tensor,
              num_bootstrap: int = 200, seed: int = 0) -> FVDResult:
    """FVD (proxy) between two sets of videos [N, 3, T, H, W] in [0, 1]."""
    return fvd(evaluator.features(real_video), evaluator.features(fake_video), num_bootstrap, seed)
