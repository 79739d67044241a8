"""A small probe that measures how much of a label the first k frames of a clip reveal.

The stand-ins are useful only if motion, not appearance, carries what the paper's tasks need:
``shapes`` (UCF-101 / SSv2's role) must be near chance from one frame and not from the clip, and
``scenes`` (Kinetics-600's role, 5 condition frames) must hide its camera velocity in one frame
and reveal it in five.
"""

from __future__ import annotations

import torch
from torch import nn

from magvit import data
from magvit.data.procedural import NUM_DIRECTIONS, NUM_SPEEDS
from magvit.infra.progress import progress

# classes of each label key ("label": the benchmark's own class count)
LABEL_CLASSES = {"label": None, "speed": NUM_SPEEDS, "direction": NUM_DIRECTIONS}


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


def frozen_after(video: torch.Tensor, visible_frames: int) -> torch.Tensor:
    """[B, 3, T, H, W] -> the same clip with every frame after ``visible_frames`` replaced by the last
    visible one: it shows exactly the first ``visible_frames`` frames (1 = a still image)."""
    num_frames = video.shape[2]
    if not 1 <= visible_frames <= num_frames:
        raise ValueError(f"visible_frames must be in [1, {num_frames}], got {visible_frames}")
    keep = torch.arange(num_frames).clamp(max=visible_frames - 1)
    return video[:, :, keep]


def label_probe(name: str = "shapes", label: str = "label", visible_frames: int | None = None,
                steps: int = 150, num_frames: int = 16, resolution: int = 16, width: int = 32,
                num_train: int = 1536, num_test: int = 384, batch_size: int = 32, seed: int = 0,
                device: torch.device | str = "cpu") -> float:
    """Held-out accuracy of the probe predicting ``labels[label]`` of benchmark ``name`` from the
    first ``visible_frames`` frames of each clip (None = all of them).

    Train and test clips come from the disjoint train and test splits, so the accuracy measures what
    the visible frames reveal about the label, not memorisation.
    """
    if label not in LABEL_CLASSES:
        raise ValueError(f"unknown label {label!r}; choose from {', '.join(LABEL_CLASSES)}")
    visible_frames = num_frames if visible_frames is None else visible_frames
    x_train, y_train = data.get_batch(data.load(name, "train", num_frames, resolution, seed), range(num_train))
    x_test, y_test = data.get_batch(data.load(name, "test", num_frames, resolution, seed), range(num_test))
    y_train, y_test = y_train[label].to(device), y_test[label].to(device)
    if (y_train < 0).any():
        raise ValueError(f"{name!r} has no {label!r} label (it is -1, not applicable)")
    num_classes = data.num_classes(name) if label == "label" else LABEL_CLASSES[label]
    # [N, 6, T-1, H, W]: what the probe sees, frozen after the visible frames
    x_train, x_test = (with_differences(frozen_after(x, visible_frames)).to(device) for x in (x_train, x_test))
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = probe_net(num_classes, width).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in progress(range(steps), desc=f"probe {name}.{label} ({visible_frames} frames)", mininterval=2.0,
                      leave=False):
        idx = torch.randint(0, num_train, (batch_size,), generator=generator).to(device)
        loss = nn.functional.cross_entropy(net(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.inference_mode():
        return float((net(x_test).argmax(1) == y_test).float().mean())
