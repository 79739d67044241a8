"""Loaders for the paper's real datasets, in their released formats (none can be downloaded here).

Each samples a ``num_frames`` clip with a frame ``stride`` from one video, resizes the short side
to ``resolution`` and centre-crops (Sec. 4.1: 128 x 128; BAIR 64 x 64), and maps labels. Item ``i`` is
video ``i`` of the split; the clip start is drawn from ``(seed, i)``, so items repeat exactly.
Roots come from ``root=`` or ``$MAGVIT_DATA_<NAME>``. Missing or malformed layouts raise errors
that show the expected layout and where the data is obtained. ``write_tiny_<name>`` functions
write a few-video dataset in each format, for the tests and the data notebook.

One module per dataset format (``ucf101``, ``bair``, ``kinetics600``, ``ssv2``) and what they share (``common``);
this package re-exports their public names, so ``from magvit.data.real import load_ucf101`` keeps working.

Bad videos among good ones (a corrupt download, a zero-length file): by default a loader stops, at load
time for empty files (all of them listed, with their count) and at the first read for undecodable ones
(naming it). With ``skip_bad=True`` it reads every video once at load (minutes for a full dataset), drops
those that cannot be decoded or are too short for one clip, and warns with their count and names; the
dropped ones are in the dataset's ``skipped``. :func:`check_videos` lists them without loading anything else.
An empty split is an error.

UCF-101, Kinetics-600 and SSv2 are video files that imageio reads and writes through ffmpeg (``imageio-ffmpeg``); on
a machine without it (:func:`video_backend_missing` says why) their loaders and writers raise an ImportError naming
the package. BAIR needs no ffmpeg (TFRecords need TensorFlow; its ``.npy`` conversion needs neither).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from magvit.data.real.bair import bair_tfrecord_frames, load_bair, write_tiny_bair
from magvit.data.real.common import (
    LAYOUTS,
    REAL_BENCHMARK_IDS,
    SOURCES,
    RealVideo,
    check_videos,
    finish,
    read_video,
    require,
    resize_crop,
    resolve_root,
    sample_clip,
    tensorflow_missing,
    tiny_frames,
    video_backend_missing,
)
from magvit.data.real.kinetics600 import load_kinetics600, read_csv, write_tiny_kinetics600
from magvit.data.real.ssv2 import load_ssv2, write_tiny_ssv2
from magvit.data.real.ucf101 import load_ucf101, write_tiny_ucf101

__all__ = [
    "LAYOUTS", "LOADERS", "NEEDS_VIDEO_BACKEND", "REAL_BENCHMARK_IDS", "SOURCES", "WRITERS", "RealVideo",
    "bair_tfrecord_frames", "check_videos", "finish", "load_bair", "load_kinetics600", "load_ssv2", "load_ucf101",
    "read_csv", "read_video", "require", "resize_crop", "resolve_root", "sample_clip", "tensorflow_missing",
    "tiny_frames", "video_backend_missing", "write_tiny_available", "write_tiny_bair", "write_tiny_kinetics600",
    "write_tiny_ssv2", "write_tiny_ucf101",
]

LOADERS: dict[str, Callable[..., RealVideo]] = {
    "ucf101": load_ucf101, "bair": load_bair, "kinetics600": load_kinetics600, "ssv2": load_ssv2,
}
WRITERS: dict[str, Callable[..., Path]] = {
    "ucf101": write_tiny_ucf101, "bair": write_tiny_bair, "kinetics600": write_tiny_kinetics600,
    "ssv2": write_tiny_ssv2,
}

# the formats stored as video files (imageio's FFMPEG plugin reads and writes them)
NEEDS_VIDEO_BACKEND = ("ucf101", "kinetics600", "ssv2")


def write_tiny_available(root: str | os.PathLike, names: tuple[str, ...] = tuple(WRITERS)) -> tuple[
        dict[str, Path], list[str]]:
    """Write the tiny dataset of each format in ``names`` that this machine can write, under ``root/<name>``; return
    ``{name: its root}`` and one line per format left out or written otherwise, saying why (notebook 01).

    The video formats need ffmpeg (a lent GPU's image has no imageio-ffmpeg, and its 68 MB wheel cannot be carried
    there): without it they are skipped. BAIR is written as TFRecords where TensorFlow imports, else as its ``.npy``
    conversion (the same frames; ``load_bair`` reads either)."""
    root = Path(root)
    unknown = [n for n in names if n not in WRITERS]
    if unknown:
        raise ValueError(f"no tiny writer for {unknown}; formats: {', '.join(WRITERS)}")
    written: dict[str, Path] = {}
    notes: list[str] = []
    video_missing = video_backend_missing() if any(n in NEEDS_VIDEO_BACKEND for n in names) else None
    for name in names:
        if name in NEEDS_VIDEO_BACKEND and video_missing:
            notes.append(f"skipped: {name} (its videos need ffmpeg: {video_missing})")
            continue
        if name == "bair" and (tf_missing := tensorflow_missing()):
            written[name] = write_tiny_bair(root / name, fmt="npy")
            notes.append(f"bair: written as its .npy conversion, not TFRecords ({tf_missing})")
            continue
        written[name] = WRITERS[name](root / name)
    return written, notes
