"""UCF-101: ``.avi`` videos in one folder per class and the official split lists (Sec. 4.1: class-conditional
generation; the tokenizer's inflation, Sec. 3.1)."""

from __future__ import annotations

import os
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from magvit.data.real.common import (
    RealVideo,
    finish,
    read_video,
    require,
    require_video_backend,
    resolve_root,
    tiny_frames,
)


def load_ucf101(split: str, root: str | None = None, fold: int = 1, num_frames: int = 16,
                resolution: int = 128, stride: int = 1, seed: int = 0, skip_bad: bool = False) -> RealVideo:
    """UCF-101 with the official split lists (``train`` = trainlist0N, ``test``/``val`` = testlist0N)."""
    if split not in ("train", "val", "test"):
        raise ValueError(f"ucf101: unknown split {split!r}; choose train, val or test")
    if fold not in (1, 2, 3):
        raise ValueError(f"ucf101: fold must be 1, 2 or 3, got {fold}")
    require_video_backend("the ucf101 loader (.avi videos)")
    root = resolve_root("ucf101", root)
    lists = require(root / "ucfTrainTestlist", "ucf101", "split folder")
    videos = root / "UCF-101" if (root / "UCF-101").is_dir() else root
    classes = {}
    for line in require(lists / "classInd.txt", "ucf101", "class index").read_text().splitlines():
        if line.strip():
            parts = line.split()
            if len(parts) != 2 or not parts[0].isdigit():
                raise ValueError(f"ucf101: malformed line in classInd.txt: {line!r} (want '<id> <Class>')")
            classes[parts[1]] = int(parts[0]) - 1
    list_name = f"{'train' if split == 'train' else 'test'}list0{fold}.txt"
    entries = []
    for line in require(lists / list_name, "ucf101", "split list").read_text().splitlines():
        if not line.strip():
            continue
        rel = line.split()[0]
        class_name = rel.split("/")[0]
        if class_name not in classes:
            raise ValueError(f"ucf101: {list_name} names class {class_name!r} absent from classInd.txt")
        entries.append((require(videos / rel, "ucf101", "video"), classes[class_name]))
    return finish(RealVideo("ucf101", entries, read_video, num_frames, resolution, stride, seed), split, skip_bad)


def write_tiny_ucf101(root: str | os.PathLike, classes: tuple[str, ...] = ("ApplyEyeMakeup", "Basketball"),
                      videos_per_class: int = 2, frames: int = 20, size: tuple[int, int] = (48, 64)) -> Path:
    """A few-video UCF-101 in the real layout (xvid .avi), for tests and the data notebook."""
    require_video_backend("write_tiny_ucf101 (.avi videos)")
    root = Path(root)
    (root / "ucfTrainTestlist").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    train, test = [], []
    for c, name in enumerate(classes):
        (root / "UCF-101" / name).mkdir(parents=True, exist_ok=True)
        for g in range(videos_per_class):
            rel = f"{name}/v_{name}_g{g + 1:02d}_c01.avi"
            video = tiny_frames(rng, frames, size, colour=c)
            imageio.mimwrite(root / "UCF-101" / rel, video, format="FFMPEG", fps=25, codec="mpeg4",
                             macro_block_size=1, quality=9, ffmpeg_log_level="error")
            (train if g % 2 == 0 else test).append((rel, c + 1))
    (root / "ucfTrainTestlist" / "classInd.txt").write_text(
        "".join(f"{i + 1} {n}\n" for i, n in enumerate(classes)))
    for fold in (1, 2, 3):
        (root / "ucfTrainTestlist" / f"trainlist0{fold}.txt").write_text("".join(f"{r} {c}\n" for r, c in train))
        (root / "ucfTrainTestlist" / f"testlist0{fold}.txt").write_text("".join(f"{r}\n" for r, _ in test))
    return root
