"""Figures every notebook needs: frame grids, GIFs and loss curves, saved under the profile's figures/."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import imageio.v2 as imageio
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from einops import rearrange
from PIL import Image, ImageDraw

from magvit.infra.atomic import atomic_write_with
from magvit.infra.paths import figures_dir
from magvit.infra.video import check_video, to_uint8


def frame_grid(videos: Sequence[torch.Tensor] | torch.Tensor, row_labels: Sequence[str] | None = None,
               max_frames: int = 16, frame_step: int = 1, title: str | None = None,
               scale: float = 0.9) -> plt.Figure:
    """One row per clip, one column per frame. ``videos``: ``[B, 3, T, H, W]`` or a list of them
    (stacked in order, e.g. ``[originals, reconstructions]``)."""
    if isinstance(videos, torch.Tensor):
        videos = [videos]
    rows = torch.cat([check_video(v.detach().float().clamp(0, 1).cpu()) for v in videos])
    frames = to_uint8(rows)[:, ::frame_step][:, :max_frames].numpy()  # [R, T, H, W, 3]
    num_rows, num_cols = frames.shape[:2]
    fig, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale),
                             squeeze=False)
    for r in range(num_rows):
        for c in range(num_cols):
            ax = axes[r, c]
            ax.imshow(frames[r, c], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t={c * frame_step}", fontsize=7)
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], fontsize=7, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(wspace=0.04, hspace=0.08)
    return fig


def profile_strip(width: int, profile: str, height: int = 12) -> np.ndarray:
    """A ``[height, width, 3]`` uint8 strip reading ``profile <name>`` (grey on black), for GIFs."""
    strip = Image.new("RGB", (width, height))
    ImageDraw.Draw(strip).text((2, 0), f"profile {profile}", fill=(170, 170, 170))  # PIL's built-in font
    return np.asarray(strip)


def save_gif(video: torch.Tensor, name: str, fps: int = 6, upscale: int = 4, columns: int = 4, *,
             profile: str) -> Path:
    """Tile a batch ``[B, 3, T, H, W]`` into one animated GIF ``<results of profile>/figures/<name>.gif``,
    with a strip below the clips that names the profile."""
    check_video(video.detach().float().clamp(0, 1).cpu())
    clips = to_uint8(video.detach().float().cpu())  # [B, T, H, W, 3]
    columns = min(columns, clips.shape[0])
    pad = (-clips.shape[0]) % columns  # fill the last row with black clips
    if pad:
        clips = torch.cat([clips, torch.zeros_like(clips[:1]).repeat(pad, 1, 1, 1, 1)])
    tiled = rearrange(clips, "(r c) t h w ch -> t (r h) (c w) ch", c=columns)
    tiled = tiled.repeat_interleave(upscale, 1).repeat_interleave(upscale, 2).numpy()
    strip = profile_strip(tiled.shape[2], profile)
    frames = [np.concatenate([frame, strip]) for frame in tiled]
    path = figures_dir(profile) / f"{name}.gif"
    atomic_write_with(path, lambda buf: imageio.mimsave(buf, frames, format="GIF", duration=1000 / fps, loop=0))
    return path


def loss_curves(log: pd.DataFrame, columns: Sequence[str] | None = None, smooth: int = 10,
                title: str | None = None, logy: bool = False) -> plt.Figure:
    """One panel per loss column of a ``magvit.infra.train.fit`` log, raw (faint) and smoothed."""
    columns = [c for c in (columns or log.columns) if c != "step"]
    fig, axes = plt.subplots(1, len(columns), figsize=(3.0 * len(columns), 2.4), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        values = log[column].to_numpy(dtype=float)
        steps = log["step"].to_numpy() if "step" in log else np.arange(len(values))
        ax.plot(steps, values, alpha=0.3, lw=0.8)
        if len(values) >= smooth > 1:
            ax.plot(steps, pd.Series(values).rolling(smooth, min_periods=1).mean(), lw=1.5)
        ax.set_title(column, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        if logy:
            ax.set_yscale("log")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
