"""Clips per second of each procedural benchmark, and data time vs a cpu-profile training step.

    .venv/bin/python benchmarks/bench_data.py
"""

from __future__ import annotations

import time

import torch

from magvit import data, profiles


def clips_per_second(name: str, resolution: int, num_clips: int = 64) -> float:
    ds = data.load(name, "train", num_frames=16, resolution=resolution)
    data.get_batch(ds, range(8))  # warm caches (scikit-image photos are resized once per size)
    t0 = time.perf_counter()
    data.get_batch(ds, range(100, 100 + num_clips))
    return num_clips / (time.perf_counter() - t0)


def main() -> None:
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"{'benchmark':<10} {'16x32x32 clips/s':>18} {'16x64x64 clips/s':>18}")
    rates = {}
    for name in data.BENCHMARKS:
        rates[name] = (clips_per_second(name, 32), clips_per_second(name, 64))
        print(f"{name:<10} {rates[name][0]:>18.1f} {rates[name][1]:>18.1f}")
    p = profiles.get("cpu")
    batch = p.tokenizer.batch_size
    slowest = min(r[0] for r in rates.values())
    print(f"\ncpu profile: one tokenizer batch of {batch} clips takes {1000 * batch / slowest:.0f} ms to "
          f"generate (slowest benchmark); compare with the tokenizer step time in bench_tokenizer.py")


if __name__ == "__main__":
    main()
