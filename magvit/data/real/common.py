"""What every real-dataset loader shares: where a dataset lives and is obtained, reading and cutting videos, the
``RealVideo`` dataset, the handling of bad videos, and the tiny synthetic frames the ``write_tiny_*`` functions encode.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch.utils.data import Dataset

from magvit.infra.checks import check_seed

SOURCES = {
    "ucf101": "https://www.crcv.ucf.edu/data/UCF101.php (UCF101.rar and the Train/Test splits zip)",
    "bair": "http://rail.eecs.berkeley.edu/datasets/bair_robot_pushing_dataset_v0.tar",
    "kinetics600": "https://github.com/cvdfoundation/kinetics-dataset (k600 videos and annotation CSVs)",
    "ssv2": "https://developer.qualcomm.com/software/ai-datasets/something-something (videos + labels)",
}
LAYOUTS = {
    "ucf101": "ROOT/UCF-101/<ClassName>/v_<ClassName>_gXX_cXX.avi and "
              "ROOT/ucfTrainTestlist/{classInd.txt, trainlist0N.txt, testlist0N.txt}",
    "bair": "ROOT/softmotion30_44k/{train,test}/*.tfrecords (original release; frames under "
            "'<t>/image_aux1/encoded') or ROOT/{train,test}.npy of shape [N, T, 64, 64, 3] uint8",
    "kinetics600": "ROOT/{train,validate,test}.csv (label,youtube_id,time_start,time_end,split) and "
                   "ROOT/{train,validate,test}/<youtube_id>_<start:06d>_<end:06d>.mp4",
    "ssv2": "ROOT/20bn-something-something-v2/<id>.webm and ROOT/labels/{labels.json, train.json, "
            "validation.json}",
}
REAL_BENCHMARK_IDS = {"ucf101": 3, "bair": 4, "kinetics600": 5, "ssv2": 6}
# pyproject.toml's pin: the package that gives imageio its FFMPEG plugin (and bundles an ffmpeg binary)
VIDEO_BACKEND_PIN = "imageio-ffmpeg==0.8.1"


def video_backend_missing() -> str | None:
    """None when imageio can encode and decode video files here, else why not.

    The .avi / .mp4 / .webm formats (UCF-101, Kinetics-600, SSv2) go through imageio's FFMPEG plugin, which needs the
    ``imageio_ffmpeg`` package and an ffmpeg binary it finds (its own, ``$IMAGEIO_FFMPEG_EXE`` or the system's). Not
    cached, so that a test can take the backend away."""
    try:
        backend = importlib.import_module("imageio_ffmpeg")
    except ImportError:
        return f"imageio-ffmpeg is not installed (pip install {VIDEO_BACKEND_PIN})"
    try:
        backend.get_ffmpeg_exe()
    except RuntimeError as err:
        return (f"imageio-ffmpeg finds no ffmpeg binary ({err}); reinstall it with pip install {VIDEO_BACKEND_PIN} "
                "(its wheel bundles one) or set $IMAGEIO_FFMPEG_EXE")
    return None


def require_video_backend(what: str) -> None:
    """Raise ImportError naming the missing package when ``what`` (a loader, a writer, a video) needs ffmpeg and
    imageio has none: imageio's own error names neither the pin nor which step needed it, and a reader that caught
    it would report every video as corrupt."""
    reason = video_backend_missing()
    if reason is not None:
        raise ImportError(f"{what} needs ffmpeg through imageio to encode or decode video files: {reason}")


def tensorflow_missing() -> str | None:
    """None when TensorFlow can be imported (BAIR's TFRecords need it), else why not; found without importing it
    (an import takes ~5 s)."""
    if importlib.util.find_spec("tensorflow") is None:
        return "TensorFlow is not installed (pip install tensorflow-cpu==2.21.0, the pin in pyproject.toml)"
    return None


def resolve_root(name: str, root: str | os.PathLike | None) -> Path:
    variable = f"MAGVIT_DATA_{name.upper()}"
    root = root or os.environ.get(variable)
    if not root:
        raise FileNotFoundError(
            f"{name}: no dataset root given; pass root=... or set ${variable}. Expected layout: "
            f"{LAYOUTS[name]}. Obtain it from {SOURCES[name]}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{name}: dataset root {root} does not exist. Expected layout: {LAYOUTS[name]}. "
            f"Obtain it from {SOURCES[name]}")
    return root


def require(path: Path, name: str, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{name}: missing {what} {path}. Expected layout: {LAYOUTS[name]}. "
                                f"Obtain it from {SOURCES[name]}")
    return path


def read_video(path: Path) -> np.ndarray:
    """All frames of a video file as uint8 [N, H, W, 3] (ffmpeg through imageio)."""
    require_video_backend(f"reading {path}")  # ImportError: not an unreadable video (OSError)
    try:
        frames = imageio.mimread(path, format="FFMPEG", memtest=False)
    except Exception as err:  # imageio raises several types for corrupt files
        raise OSError(f"cannot read video {path}: {type(err).__name__}: {_short(err)}") from None
    if not frames:
        raise OSError(f"cannot read video {path}: it has no frames")
    return np.stack([f[..., :3] for f in frames])


def _short(err: BaseException) -> str:
    """imageio's first line plus ffmpeg's last (its verdict), not the build banner in between."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip() and not line.startswith("===")]
    if not lines:
        return type(err).__name__
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"


def resize_crop(frames: np.ndarray, resolution: int) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> uint8 [T, R, R, 3]: short side to R (antialiased bilinear), centre crop."""
    video = rearrange(torch.from_numpy(np.array(frames)), "t h w c -> t c h w").float()
    h, w = video.shape[-2:]
    if min(h, w) != resolution:
        scale = resolution / min(h, w)
        size = (max(resolution, round(h * scale)), max(resolution, round(w * scale)))
        video = F.interpolate(video, size=size, mode="bilinear", align_corners=False, antialias=True)
    h, w = video.shape[-2:]
    top, left = (h - resolution) // 2, (w - resolution) // 2
    video = video[..., top:top + resolution, left:left + resolution]
    return rearrange(video.round().clamp(0, 255).to(torch.uint8), "t c h w -> t h w c")


def sample_clip(frames: np.ndarray, num_frames: int, stride: int, rng: np.random.Generator,
                source: str) -> np.ndarray:
    span = (num_frames - 1) * stride + 1
    if len(frames) < span:
        raise ValueError(f"video {source} has {len(frames)} frames; a {num_frames}-frame clip with "
                         f"stride {stride} needs {span}")
    start = int(rng.integers(0, len(frames) - span + 1))
    return frames[start:start + span:stride]


@dataclass
class RealVideo(Dataset):
    """A list of (video reference, label) read by ``read`` and cut into clips."""

    name: str
    entries: list[tuple[object, int]]
    read: Callable[[object], np.ndarray]
    num_frames: int = 16
    resolution: int = 128
    stride: int = 1
    seed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (video, reason) dropped by skip_bad

    def __post_init__(self) -> None:
        self.seed = check_seed(self.seed)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:  # the dataclass default would print every entry
        return f"RealVideo({self.name!r}, {len(self.entries)} videos, {len(self.skipped)} skipped)"

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, int]]:
        if not 0 <= index < len(self.entries):
            raise IndexError(f"{self.name}: index {index} outside [0, {len(self.entries)})")
        ref, label = self.entries[index]
        rng = np.random.default_rng([self.seed, index])
        try:
            frames = self.read(ref)
        except OSError as err:
            raise OSError(f"{self.name}: {err} (video {index} of {len(self.entries)} in this split). Load with "
                          "skip_bad=True to drop unreadable videos (each is named in a warning), or list them "
                          "all with magvit.data.real.check_videos(dataset)") from None
        clip = sample_clip(frames, self.num_frames, self.stride, rng, str(ref))
        return resize_crop(clip, self.resolution), {
            "benchmark": REAL_BENCHMARK_IDS[self.name], "label": label, "speed": -1, "direction": -1}


def check_videos(dataset: RealVideo) -> list[tuple[str, str]]:
    """Read every video of ``dataset`` once; return ``(video, reason)`` for each that cannot be decoded or is
    too short for one ``num_frames`` clip at ``stride``. Reads the whole split: minutes for a full dataset."""
    span = (dataset.num_frames - 1) * dataset.stride + 1
    bad = []
    for ref, _ in dataset.entries:
        try:
            frames = dataset.read(ref)
        except (OSError, ValueError) as err:
            bad.append((str(ref), str(err)))
            continue
        if len(frames) < span:
            bad.append((str(ref), f"{len(frames)} frames, a clip needs {span}"))
    return bad


def finish(dataset: RealVideo, split: str, skip_bad: bool) -> RealVideo:
    """Refuse an empty split; handle empty files (and with ``skip_bad``, every unusable video) as documented
    in the module docstring."""
    where = f"{dataset.name} {split}"
    if not dataset.entries:
        raise ValueError(f"{where}: the split lists no videos. Expected layout: {LAYOUTS[dataset.name]}")
    empty = [str(ref) for ref, _ in dataset.entries if isinstance(ref, Path) and ref.stat().st_size == 0]
    if empty and not skip_bad:
        raise OSError(f"{where}: {len(empty)} of {len(dataset.entries)} video files are empty (0 bytes), e.g. "
                      f"{', '.join(empty[:5])}. Download them again, or load with skip_bad=True to drop them "
                      "(and any other unreadable video) with a warning")
    if not skip_bad:
        return dataset
    bad = check_videos(dataset)
    dropped = {ref for ref, _ in bad}
    kept = [(ref, label) for ref, label in dataset.entries if str(ref) not in dropped]
    if not kept:
        raise OSError(f"{where}: none of its {len(dataset.entries)} videos can be used; first: {bad[0][0]}: "
                      f"{bad[0][1]}")
    if bad:
        shown = "; ".join(f"{ref}: {why}" for ref, why in bad[:5]) + ("; ..." if len(bad) > 5 else "")
        warnings.warn(f"{where}: skipped {len(bad)} of {len(dataset.entries)} videos that cannot be used: {shown}",
                      stacklevel=3)
    return replace(dataset, entries=kept, skipped=bad)


def tiny_frames(rng: np.random.Generator, frames: int, size: tuple[int, int], colour: int) -> np.ndarray:
    """A moving bright square on a tinted background (decodable after lossy compression)."""
    h, w = size
    video = np.full((frames, h, w, 3), 40, np.uint8)
    video[..., colour % 3] = 120
    x0 = int(rng.integers(0, w // 2))
    for t in range(frames):
        x = (x0 + 2 * t) % (w - 12)
        video[t, h // 3:h // 3 + 12, x:x + 12] = 230
    return video
