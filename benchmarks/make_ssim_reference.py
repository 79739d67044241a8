"""Write ``tests/data/ssim_tf_reference.npz``: clips and their SSIM computed by TensorFlow, the way the
official MAGVIT code computes SSIM for BAIR (paper Tab. 3; ``videogvt/train_lib/image_quality_metrics.py``,
``ssim_tf``: the code's own ``rgb2gray`` (0.2125 R + 0.7154 G + 0.0721 B), then ``tf.image.ssim`` with
``max_val=1``: an 11 x 11 Gaussian window of sigma 1.5, k1 = 0.01, k2 = 0.03, valid filtering, mean over
the SSIM map; ``run_models`` then averages the frames of each clip).

TensorFlow is not a dependency of the package or its tests: run this once in a throw-away environment,

    python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu numpy
    /tmp/tfenv/bin/python benchmarks/make_ssim_reference.py

Written with TensorFlow 2.21.0 (tensorflow-cpu) and numpy 2.4.6. ``tests/test_metrics.py`` loads the file
and checks ``magvit.metrics.ssim`` against it to 1e-5.

Cases (clips are float32 [N, T, H, W, 3] in [0, 1], the official code's layout):

- ``random``: two independent uniform clips (SSIM near 0);
- ``structured``: a smooth clip (moving Gaussian blobs) and its blurred, noised copy (SSIM well inside (0, 1));
- ``small``: frames of exactly 11 x 12 pixels (one window row), and not square, to pin the axes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tensorflow as tf

GRAY = (0.2125, 0.7154, 0.0721)  # the official rgb2gray


def rgb2gray(video: np.ndarray) -> np.ndarray:
    return GRAY[0] * video[..., 0:1] + GRAY[1] * video[..., 1:2] + GRAY[2] * video[..., 2:3]


def ssim_tf(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[N, T, H, W, 3] pairs -> SSIM per frame [N, T] (the official ``ssim_tf`` on the flattened frames)."""
    n, t = a.shape[:2]
    fa = tf.convert_to_tensor(rgb2gray(a).reshape(n * t, *a.shape[2:4], 1))
    fb = tf.convert_to_tensor(rgb2gray(b).reshape(n * t, *b.shape[2:4], 1))
    return tf.image.ssim(fa, fb, max_val=1.0).numpy().reshape(n, t)


def blobs(rng: np.random.Generator, n: int, t: int, h: int, w: int) -> np.ndarray:
    """Smooth clips: a few coloured Gaussian blobs drifting over a colour gradient."""
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    out = np.empty((n, t, h, w, 3), np.float64)
    for i in range(n):
        base = rng.uniform(0.2, 0.6, 3) + 0.3 * (yy / h)[..., None] * rng.uniform(-1, 1, 3)
        for k in range(t):
            frame = base.copy()
            for _ in range(3):
                cy, cx = rng.uniform(0, h), rng.uniform(0, w)
                r = rng.uniform(2, 5)
                g = np.exp(-((yy - cy - k) ** 2 + (xx - cx + k) ** 2) / (2 * r**2))
                frame += 0.5 * g[..., None] * rng.uniform(-1, 1, 3)
            out[i, k] = frame
    return np.clip(out, 0, 1)


def box_blur(video: np.ndarray) -> np.ndarray:
    """3 x 3 box blur of every frame (edge-replicated)."""
    p = np.pad(video, ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = video.shape[2:4]
    return sum(p[:, :, dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)) / 9


def cases(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    random = rng.uniform(size=(2, 3, 24, 20, 3)), rng.uniform(size=(2, 3, 24, 20, 3))
    clean = blobs(rng, 2, 3, 24, 20)
    noisy = np.clip(box_blur(clean) + rng.normal(0, 0.05, clean.shape), 0, 1)
    small_a = blobs(rng, 1, 2, 11, 12)
    small_b = np.clip(small_a + rng.normal(0, 0.1, small_a.shape), 0, 1)
    out = {"random": random, "structured": (clean, noisy), "small": (small_a, small_b)}
    return {k: (a.astype(np.float32), b.astype(np.float32)) for k, (a, b) in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "tests/data/ssim_tf_reference.npz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    arrays = {}
    for name, (a, b) in cases(args.seed).items():
        per_frame = ssim_tf(a, b)
        arrays.update({f"{name}_a": a, f"{name}_b": b, f"{name}_ssim": per_frame})
        print(f"{name:<11} {tuple(a.shape)}  SSIM per frame {np.round(per_frame.astype(np.float64), 4).tolist()}")
    arrays["tf_version"] = np.array(tf.__version__)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB), TensorFlow {tf.__version__}")


if __name__ == "__main__":
    main()
