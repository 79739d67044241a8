"""A small probe that measures how much of the ``shapes`` class one frame vs the whole clip reveals.

The benchmark is useful only if the motion, not the appearance, carries the class (the role UCF-101
and SSv2 play in the paper): a classifier that sees one frame must stay near chance while the same
classifier on the clip does not.
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from magvit import data


def video_trunk(width: int = 32) -> nn.Sequential:
    """A compact 3D CNN on frames + frame differences (6 channels) -> [B, 2 * width].

    BatchNorm makes it train in a few hundred steps; the frame differences hand it motion directly.
    Shared by this probe and the proxy evaluator (``magvit.metrics.proxy``).
    """
    return nn.Sequential(
        nn.Conv3d(6, width, 3, padding=1), nn.BatchNorm3d(width), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
        nn.Conv3d(width, 2 * width, 3, padding=1), nn.BatchNorm3d(2 * width), nn.ReLU(), nn.MaxPool3d(2),
        nn.Conv3d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm3d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool3d(1), nn.Flatten(),
    )


def probe_net(num_classes: int, width: int = 32) -> nn.Module:
    return nn.Sequential(video_trunk(width), nn.Linear(2 * width, num_classes))


def with_differences(video: torch.Tensor) -> torch.Tensor:
    """[B, 3, T, H, W] -> [B, 6, T-1, H, W]: frames 1.. and the (scaled) frame differences."""
    diff = video[:, :, 1:] - video[:, :, :-1]
    return torch.cat([video[:, :, 1:], 4 * diff], 1)


def class_probe(view: str = "clip", steps: int = 150, resolution: int = 16, num_train: int = 1536,
                num_test: int = 384, batch_size: int = 32, seed: int = 0) -> float:
    """Held-out ``shapes`` accuracy of the probe trained on the clip or on frame 0 repeated."""
    if view not in ("clip", "frame"):
        raise ValueError(f"view must be 'clip' or 'frame', got {view!r}")
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = data.get_batch(data.load("shapes", "train", resolution=resolution, seed=seed),
                                      range(num_train))
    x_test, y_test = data.get_batch(data.load("shapes", "test", resolution=resolution, seed=seed),
                                    range(num_test))
    if view == "frame":  # one frame, repeated: no motion can be seen
        x_train, x_test = (x[:, :, :1].expand_as(x) for x in (x_train, x_test))
    x_train, x_test = with_differences(x_train), with_differences(x_test)
    torch.manual_seed(seed)
    net = probe_net(data.num_classes("shapes"))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in tqdm(range(steps), desc=f"probe ({view})", mininterval=2.0, leave=False):
        idx = torch.randint(0, num_train, (batch_size,), generator=generator)
        loss = nn.functional.cross_entropy(net(x_train[idx]), y_train["label"][idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.inference_mode():
        return float((net(x_test).argmax(1) == y_test["label"]).float().mean())
