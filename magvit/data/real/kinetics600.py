"""Kinetics-600: videos named ``<youtube_id>_<start>_<end>`` and the annotation CSVs (Sec. 4.1: frame prediction
with five condition frames)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from magvit.data.real.common import (
    LAYOUTS,
    RealVideo,
    finish,
    read_video,
    require,
    require_video_backend,
    resolve_root,
    tiny_frames,
)


def load_kinetics600(split: str, root: str | None = None, num_frames: int = 16, resolution: int = 128,
                     stride: int = 1, seed: int = 0, skip_bad: bool = False) -> RealVideo:
    """Kinetics-600 from the annotation CSVs; classes are the sorted labels of ``train.csv``."""
    names = {"train": "train", "val": "validate", "test": "test"}
    if split not in names:
        raise ValueError(f"kinetics600: unknown split {split!r}; choose train, val or test")
    require_video_backend("the kinetics600 loader (.mp4 videos)")
    root = resolve_root("kinetics600", root)
    label_names = sorted({row["label"] for row in read_csv(root / "train.csv", "kinetics600")})
    classes = {name: i for i, name in enumerate(label_names)}
    entries = []
    for row in read_csv(root / f"{names[split]}.csv", "kinetics600"):
        stem = f"{row['youtube_id']}_{int(row['time_start']):06d}_{int(row['time_end']):06d}"
        candidates = sorted((root / names[split]).glob(stem + ".*"))
        if not candidates:
            continue  # Kinetics videos go missing from YouTube; the usual practice is to skip them
        if row["label"] not in classes:
            raise ValueError(f"kinetics600: label {row['label']!r} of {stem} is not in train.csv")
        entries.append((candidates[0], classes[row["label"]]))
    if not entries:
        raise FileNotFoundError(f"kinetics600: no video files found for split {split!r} under "
                                f"{root / names[split]}. Expected layout: {LAYOUTS['kinetics600']}")
    return finish(RealVideo("kinetics600", entries, read_video, num_frames, resolution, stride, seed), split,
                  skip_bad)


def read_csv(path: Path, name: str) -> list[dict[str, str]]:
    with open(require(path, name, "annotation file"), newline="") as f:
        rows = list(csv.DictReader(f))
    needed = {"label", "youtube_id", "time_start", "time_end"}
    if rows and not needed <= set(rows[0]):
        raise ValueError(f"{name}: {path} must have columns {sorted(needed)}, has {sorted(rows[0])}")
    return rows


def write_tiny_kinetics600(root: str | os.PathLike, labels: tuple[str, ...] = ("abseiling", "zumba")) -> Path:
    """A few-video Kinetics-600 in the real layout (annotation CSVs + .mp4), for tests and the data notebook."""
    require_video_backend("write_tiny_kinetics600 (.mp4 videos)")
    root = Path(root)
    rng = np.random.default_rng(2)
    for part in ("train", "validate", "test"):
        (root / part).mkdir(parents=True, exist_ok=True)
        rows = []
        for i, label in enumerate(labels):
            yid = f"vid{part[:2]}{i:04d}xx"
            imageio.mimwrite(root / part / f"{yid}_000010_000020.mp4", tiny_frames(rng, 20, (48, 64), i),
                             format="FFMPEG", fps=25, codec="libx264", macro_block_size=1,
                             ffmpeg_log_level="error")
            rows.append(f"{label},{yid},10,20,{part}\n")
        (root / f"{part}.csv").write_text("label,youtube_id,time_start,time_end,split\n" + "".join(rows))
    return root
