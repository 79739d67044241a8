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
"""

from __future__ import annotations

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
    tiny_frames,
)
from magvit.data.real.kinetics600 import load_kinetics600, read_csv, write_tiny_kinetics600
from magvit.data.real.ssv2 import load_ssv2, write_tiny_ssv2
from magvit.data.real.ucf101 import load_ucf101, write_tiny_ucf101

__all__ = [
    "LAYOUTS", "LOADERS", "REAL_BENCHMARK_IDS", "SOURCES", "WRITERS", "RealVideo", "bair_tfrecord_frames",
    "check_videos", "finish", "load_bair", "load_kinetics600", "load_ssv2", "load_ucf101", "read_csv", "read_video",
    "require", "resize_crop", "resolve_root", "sample_clip", "tiny_frames", "write_tiny_bair", "write_tiny_kinetics600",
    "write_tiny_ssv2", "write_tiny_ucf101",
]

LOADERS: dict[str, Callable[..., RealVideo]] = {
    "ucf101": load_ucf101, "bair": load_bair, "kinetics600": load_kinetics600, "ssv2": load_ssv2,
}
WRITERS: dict[str, Callable[..., Path]] = {
    "ucf101": write_tiny_ucf101, "bair": write_tiny_bair, "kinetics600": write_tiny_kinetics600,
    "ssv2": write_tiny_ssv2,
}
