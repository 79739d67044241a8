"""Standard FVD features: the Kinetics-400 I3D from TF-Hub, as the reference FVD code uses it.

Frames are resized to 224 x 224 with TF1's *legacy* bilinear resize (``align_corners=False``, no
half-pixel centres) and scaled to [-1, 1]; the feature is the 400-d logits, averaged over time by
the model (``logits_mean``, as the official ``videogvt/train_lib/frechet_distance.py``). TensorFlow is imported
lazily, only here.

Trust: a SavedModel is a TensorFlow program. Computing features runs the graph it contains, and graph ops
can read and write files with this process's rights, so load it only from a source you trust. It is loaded
from the handle you give (``handle=`` or ``$MAGVIT_I3D``), else from the official TF-Hub URL, which
``tensorflow_hub`` caches under ``$TFHUB_CACHE_DIR`` (by default a folder in the system's temporary
directory, which other users of a shared machine can write: set ``$TFHUB_CACHE_DIR`` to a private folder
there). A local handle must be a SavedModel folder (``saved_model.pb``); anything else is refused before
TensorFlow is imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from einops import rearrange

from magvit.data.video import check_video

TFHUB_HANDLE = "https://tfhub.dev/deepmind/i3d-kinetics-400/1"
I3D_SIZE = 224

OFFLINE_HELP = (
    "The I3D could not be loaded from {handle!r}: {error}.\n"
    "This machine may be offline. On a connected machine, download the model:\n"
    "  curl -L '{url}?tf-hub-format=compressed' -o i3d.tar.gz && mkdir i3d-kinetics-400_1 && "
    "tar -xzf i3d.tar.gz -C i3d-kinetics-400_1\n"
    "copy the folder here and point MAGVIT_I3D at it (or pass handle='/path/to/i3d-kinetics-400_1')."
)


def preprocess(video: torch.Tensor) -> Any:
    """float [B, 3, T, H, W] in [0, 1] -> tf float32 [B, T, 224, 224, 3] in [-1, 1]."""
    from magvit.infra.lazy_tf import tensorflow

    tf = tensorflow()
    check_video(video)
    b, t = video.shape[0], video.shape[2]
    frames = rearrange(video.detach().float().cpu(), "b c t h w -> (b t) h w c").numpy()
    resized = tf.compat.v1.image.resize_bilinear(frames, [I3D_SIZE, I3D_SIZE], align_corners=False)
    resized = tf.reshape(resized, [b, t, I3D_SIZE, I3D_SIZE, 3])
    return 2.0 * resized - 1.0


REMOTE_PREFIXES = ("http://", "https://", "gs://")


def check_savedmodel(handle: str) -> None:
    """Refuse a local ``handle`` that is not a SavedModel folder, naming what it is instead."""
    if str(handle).startswith(REMOTE_PREFIXES):
        return
    path = Path(handle)
    if not path.exists():
        problem = "does not exist"
    elif not path.is_dir():
        problem = "is a file, not a SavedModel folder (an unextracted i3d.tar.gz?)"
    elif not ((path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file()):
        problem = "is a folder without saved_model.pb, so not a TF SavedModel (extracted one level too high?)"
    else:
        return
    raise RuntimeError(
        f"The I3D could not be loaded: the handle {path} {problem}. It must be the folder of the TF-Hub SavedModel "
        "(saved_model.pb and variables/). On a connected machine, download it:\n"
        f"  curl -L '{TFHUB_HANDLE}?tf-hub-format=compressed' -o i3d.tar.gz "
        "&& mkdir i3d-kinetics-400_1 && tar -xzf i3d.tar.gz -C i3d-kinetics-400_1\n"
        "copy the folder here and point MAGVIT_I3D at it (or pass handle='/path/to/i3d-kinetics-400_1').")


class I3DFeatures:
    """Callable: video [B, 3, T, H, W] in [0, 1] -> I3D logits [B, 400] as float64 numpy.

    ``handle``: a SavedModel folder or TF-Hub URL (default ``$MAGVIT_I3D``, else the official URL). The model
    is a TensorFlow program that runs with this process's rights: pass only one you trust (module docstring).
    """

    def __init__(self, handle: str | None = None, batch_size: int = 16) -> None:
        self.handle = handle or os.environ.get("MAGVIT_I3D") or TFHUB_HANDLE
        self.batch_size = batch_size
        check_savedmodel(self.handle)
        try:
            from magvit.infra.lazy_tf import tensorflow

            tensorflow()
            import tensorflow_hub as hub

            module = hub.load(self.handle)
            self.model = module.signatures["default"]
        except Exception as err:  # hub raises many kinds: OSError, ValueError, URLError, ...
            raise RuntimeError(OFFLINE_HELP.format(handle=self.handle, error=f"{type(err).__name__}: {err}",
                                                   url=TFHUB_HANDLE)) from None

    def __call__(self, video: torch.Tensor) -> np.ndarray:
        check_video(video)
        if video.shape[2] < 9:
            raise ValueError(f"I3D needs at least 9 frames, got {video.shape[2]}")
        feats = []
        for start in range(0, video.shape[0], self.batch_size):
            out = self.model(preprocess(video[start:start + self.batch_size]))
            logits = out["default"] if isinstance(out, dict) else out
            feats.append(np.asarray(logits, dtype=np.float64))
        return np.concatenate(feats)


def write_tiny_i3d(path: str | os.PathLike, num_classes: int = 400) -> str:
    """A tiny SavedModel with the TF-Hub I3D's signature (for offline tests of the whole path)."""
    from magvit.infra.lazy_tf import tensorflow

    tf = tensorflow()

    class TinyI3D(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(tf.random.stateless_normal([3, num_classes], seed=[1, 2]))

        @tf.function(input_signature=[tf.TensorSpec([None, None, I3D_SIZE, I3D_SIZE, 3], tf.float32)])
        def __call__(self, x):
            pooled = tf.reduce_mean(x, axis=[2, 3])  # [B, T, 3]
            return {"default": tf.reduce_mean(tf.einsum("btc,ck->btk", pooled, self.w), axis=1)}

    model = TinyI3D()
    tf.saved_model.save(model, str(path), signatures={"default": model.__call__})
    return str(path)
