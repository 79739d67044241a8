"""BAIR Robot Pushing: the original TFRecord release or its ``.npy`` conversion (Sec. 4.1: frame prediction with
one condition frame, at 64 x 64; multi-task)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from magvit.data.real.common import LAYOUTS, RealVideo, finish, require, resolve_root, tiny_frames


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
