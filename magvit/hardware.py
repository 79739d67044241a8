"""This machine: cores, threads, a measured fp32 matmul peak, and model FLOP counting.

Benchmarks report model FLOP utilisation (MFU) as model FLOPs per second over the matmul peak that
``matmul_gflops`` measures here, so "50% MFU" means half of what this CPU does on a square matmul.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode


def matmul_gflops(n: int = 1024, repeats: int = 20, device: str = "cpu") -> float:
    """Best-of-``repeats`` fp32 ``n x n`` matmul throughput in GFLOP/s (2 n^3 FLOPs each)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device)
    b = torch.randn(n, n, generator=gen).to(device)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def machine_info() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (forward and, if ``fn`` calls backward, backward too)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Best-of-``repeats`` wall time of ``fn()`` in seconds, after one warm-up call (benchmarks)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def mfu(flops_per_step: int, seconds_per_step: float, peak_gflops: float) -> float:
    """Model FLOP utilisation: achieved FLOP/s over the measured matmul peak."""
    return flops_per_step / seconds_per_step / (peak_gflops * 1e9)
