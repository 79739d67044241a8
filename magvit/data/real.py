"""Loaders for the paper's real datasets, in their released formats (none can be downloaded here).

Each samples a ``num_frames`` clip with a frame ``stride`` from one video, resizes the short side
to ``resolution`` and centre-crops (Sec. 4.1: 128 x 128; BAIR 64 x 64), and maps labels. Item ``i`` is
video ``i`` of the split; the clip start is drawn from ``(seed, i)``, so items repeat exactly.
Roots come from ``root=`` or ``$MAGVIT_DATA_<NAME>``. Missing or malformed layouts raise errors
that show the expected layout and where the data is obtained. ``write_tiny_<name>`` functions
write a few-video dataset in each format, for the tests and the data notebook.

Bad videos among good ones (a corrupt download, a zero-length file): by default a loader stops, at load
time for empty files (all of them listed, with their count) and at the first read for undecodable ones
(naming it). With ``skip_bad=True`` it reads every video once at load (minutes for a full dataset), drops
those that cannot be decoded or are too short for one clip, and warns with their count and names; the
dropped ones are in the dataset's ``skipped``. :func:`check_videos` lists them without loading anything else.
An empty split is an error.
"""

from __future__ import annotations

import csv
import json
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


# ---------------------------------------------------------------------------------------------
# UCF-101


def load_ucf101(split: str, root: str | None = None, fold: int = 1, num_frames: int = 16,
                resolution: int = 128, stride: int = 1, seed: int = 0, skip_bad: bool = False) -> RealVideo:
    """UCF-101 with the official split lists (``train`` = trainlist0N, ``test``/``val`` = testlist0N)."""
    if split not in ("train", "val", "test"):
        raise ValueError(f"ucf101: unknown split {split!r}; choose train, val or test")
    if fold not in (1, 2, 3):
        raise ValueError(f"ucf101: fold must be 1, 2 or 3, got {fold}")
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


# ---------------------------------------------------------------------------------------------
# BAIR robot pushing


def bair_tfrecord_frames(path_and_index: tuple[Path, int], resolution: int = 64) -> np.ndarray:
    """Frames ``<t>/image_aux1/encoded`` of one trajectory in a BAIR TFRecord (raw or PNG/JPEG)."""
    from magvit.infra.lazy_tf import tensorflow

    tf = tensorflow()

    path, index = path_and_index
    try:
        record = next(iter(tf.data.TFRecordDataset(str(path)).skip(index).take(1)))
    except StopIteration:
        raise ValueError(f"bair: {path} has no trajectory {index}") from None
    except tf.errors.OpError as err:
        raise OSError(f"cannot read TFRecord {path}: {err.message}") from None
    example = tf.train.Example.FromString(record.numpy())
    feats = example.features.feature
    frames, t = [], 0
    while f"{t}/image_aux1/encoded" in feats:
        data = feats[f"{t}/image_aux1/encoded"].bytes_list.value[0]
        if len(data) == 64 * 64 * 3:  # the original release stores raw uint8 bytes
            frames.append(np.frombuffer(data, np.uint8).reshape(64, 64, 3))
        else:
            frames.append(tf.io.decode_image(data, channels=3).numpy())
        t += 1
    if not frames:
        raise ValueError(f"bair: trajectory {index} of {path} has no '<t>/image_aux1/encoded' features; "
                         f"expected layout: {LAYOUTS['bair']}")
    return np.stack(frames)


def load_bair(split: str, root: str | None = None, num_frames: int = 16, resolution: int = 64,
              stride: int = 1, seed: int = 0, skip_bad: bool = False) -> RealVideo:
    """BAIR robot pushing: the TFRecord release or the ``.npy`` conversion (``val`` = ``test``)."""
    if split not in ("train", "val", "test"):
        raise ValueError(f"bair: unknown split {split!r}; choose train, val or test")
    root = resolve_root("bair", root)
    part = "train" if split == "train" else "test"
    npy = root / f"{part}.npy"
    if npy.exists():
        array = np.load(npy, mmap_mode="r")
        if array.ndim != 5 or array.shape[-1] != 3 or array.dtype != np.uint8:
            raise ValueError(f"bair: {npy} must be uint8 [N, T, H, W, 3], got {array.dtype} {array.shape}")
        entries = [(i, -1) for i in range(len(array))]
        return finish(RealVideo("bair", entries, lambda i: np.asarray(array[i]), num_frames, resolution, stride,
                                seed), split, skip_bad)
    folder = root / "softmotion30_44k" / part
    if not folder.is_dir():
        require(npy, "bair", "split (neither the TFRecord folder nor the .npy file exists)")
    from magvit.infra.lazy_tf import tensorflow

    tf = tensorflow()

    entries = []
    for path in sorted(folder.glob("*.tfrecords")):
        count = sum(1 for _ in tf.data.TFRecordDataset(str(path)))
        entries += [((path, i), -1) for i in range(count)]
    if not entries:
        raise FileNotFoundError(f"bair: no *.tfrecords in {folder}. Expected layout: {LAYOUTS['bair']}")
    return finish(RealVideo("bair", entries, bair_tfrecord_frames, num_frames, resolution, stride, seed), split,
                  skip_bad)


def write_tiny_bair(root: str | os.PathLike, trajectories: int = 3, frames: int = 30,
                    fmt: str = "tfrecord") -> Path:
    """A few BAIR trajectories in the original TFRecord format (raw bytes) or the .npy conversion."""
    root = Path(root)
    rng = np.random.default_rng(1)
    videos = np.stack([tiny_frames(rng, frames, (64, 64), colour=i) for i in range(trajectories)])
    if fmt == "npy":
        root.mkdir(parents=True, exist_ok=True)
        for part in ("train", "test"):
            np.save(root / f"{part}.npy", videos)
        return root
    from magvit.infra.lazy_tf import tensorflow

    tf = tensorflow()

    for part in ("train", "test"):
        folder = root / "softmotion30_44k" / part
        folder.mkdir(parents=True, exist_ok=True)
        with tf.io.TFRecordWriter(str(folder / "traj_0_to_255.tfrecords")) as writer:
            for video in videos:
                feature = {f"{t}/image_aux1/encoded": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[frame.tobytes()])) for t, frame in enumerate(video)}
                feature.update({f"{t}/action": tf.train.Feature(float_list=tf.train.FloatList(value=[0.0] * 4))
                                for t in range(frames)})
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return root


# ---------------------------------------------------------------------------------------------
# Kinetics-600


def load_kinetics600(split: str, root: str | None = None, num_frames: int = 16, resolution: int = 128,
                     stride: int = 1, seed: int = 0, skip_bad: bool = False) -> RealVideo:
    """Kinetics-600 from the annotation CSVs; classes are the sorted labels of ``train.csv``."""
    names = {"train": "train", "val": "validate", "test": "test"}
    if split not in names:
        raise ValueError(f"kinetics600: unknown split {split!r}; choose train, val or test")
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


# ---------------------------------------------------------------------------------------------
# Something-Something v2


def load_ssv2(split: str, root: str | None = None, num_frames: int = 16, resolution: int = 128,
              stride: int = 1, seed: int = 0, skip_bad: bool = False) -> RealVideo:
    """SSv2: ``.webm`` videos and the released label JSONs (labels.json maps template -> id)."""
    names = {"train": "train", "val": "validation", "test": "validation"}
    if split not in names:
        raise ValueError(f"ssv2: unknown split {split!r}; choose train, val or test")
    root = resolve_root("ssv2", root)
    labels_dir = require(root / "labels", "ssv2", "labels folder")
    template_ids = json.loads(require(labels_dir / "labels.json", "ssv2", "label map").read_text())
    items = json.loads(require(labels_dir / f"{names[split]}.json", "ssv2", "split file").read_text())
    videos = root / "20bn-something-something-v2"
    entries = []
    for item in items:
        if not {"id", "template"} <= set(item):
            raise ValueError(f"ssv2: entry {item!r} in {names[split]}.json lacks 'id'/'template'")
        template = item["template"].replace("[", "").replace("]", "")
        if template not in template_ids:
            raise ValueError(f"ssv2: template {template!r} of video {item['id']} is not in labels.json")
        entries.append((require(videos / f"{item['id']}.webm", "ssv2", "video"), int(template_ids[template])))
    return finish(RealVideo("ssv2", entries, read_video, num_frames, resolution, stride, seed), split, skip_bad)


def write_tiny_ssv2(root: str | os.PathLike) -> Path:
    root = Path(root)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "20bn-something-something-v2").mkdir(parents=True, exist_ok=True)
    templates = ["Pushing something from left to right", "Holding something next to something"]
    (root / "labels" / "labels.json").write_text(json.dumps({t: str(i) for i, t in enumerate(templates)}))
    rng = np.random.default_rng(3)
    for part, ids in (("train", (1, 2)), ("validation", (3, 4))):
        items = []
        for k, vid in enumerate(ids):
            imageio.mimwrite(root / "20bn-something-something-v2" / f"{vid}.webm",
                             tiny_frames(rng, 20, (48, 64), k), format="FFMPEG", fps=12, codec="libvpx",
                             macro_block_size=1, ffmpeg_log_level="error")
            template = templates[k].replace("something", "[something]")
            items.append({"id": str(vid), "label": templates[k].lower(), "template": template})
        (root / "labels" / f"{part}.json").write_text(json.dumps(items))
    return root


LOADERS: dict[str, Callable[..., RealVideo]] = {
    "ucf101": load_ucf101, "bair": load_bair, "kinetics600": load_kinetics600, "ssv2": load_ssv2,
}
WRITERS: dict[str, Callable[..., Path]] = {
    "ucf101": write_tiny_ucf101, "bair": write_tiny_bair, "kinetics600": write_tiny_kinetics600,
    "ssv2": write_tiny_ssv2,
}
