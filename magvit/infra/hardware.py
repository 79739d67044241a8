"""This machine: cores, threads, its hardware fp32 peak, a measured matmul rate and memory bandwidth, and
model FLOP counting.

MFU (model FLOP utilisation) is model FLOPs per second over the *hardware* peak (``cpu_peak``: cores x clock x
FLOPs per cycle of the vector FMA units), so it cannot exceed 100% unless the FLOP count is wrong. The measured
square-matmul rate (``matmul_gflops``) is reported beside it: how much of the peak the best kernel reaches here.
"""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from magvit.config import cpu_flags as cpu_flags  # read from /proc/cpuinfo at the config floor; re-exported here
from magvit.config import has_bf16 as has_bf16


def synchronize(device: str) -> None:
    """Wait for ``device``'s queued kernels (a no-op on the CPU, which runs synchronously)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(n: int = 1024, repeats: int = 20, device: str = "cpu", dtype: torch.dtype = torch.float32
                  ) -> float:
    """Best-of-``repeats`` ``n x n`` matmul throughput in GFLOP/s (2 n^3 FLOPs each), in ``dtype``."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device, dtype)
    b = torch.randn(n, n, generator=gen).to(device, dtype)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        t0 = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


@dataclass(frozen=True)
class CpuPeak:
    """fp32 peak of ``cores`` cores: cores x clock x lanes x 2 (FMA) x FMA units, and what it assumes."""

    model: str
    cores: int
    clock_ghz: float
    lanes: int  # fp32 lanes of the widest vector unit (AVX-512: 16, AVX2: 8)
    fma_units: int
    gflops: float
    assumption: str


def cpu_peak(cores: int | None = None, fma_units: int = 2) -> CpuPeak:
    """The fp32 hardware peak from /proc/cpuinfo: the nominal clock of the model name ("@ 2.50GHz"; turbo and
    AVX-512 licence clocks are not visible in a VM, so the nominal one is used), 16 lanes with AVX-512F (8 with
    AVX2), 2 FLOPs per FMA, and ``fma_units`` FMA units per core: 2 on Xeon Gold/Platinum (Skylake/Cascade
    Lake-SP), 1 on Silver/Bronze; the VM does not say which, so it is an assumption, checked by the measured
    one-thread matmul rate (above the 1-unit peak means at least 2 units)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")),
                 platform.processor() or "unknown")
    found = re.search(r"@\s*([\d.]+)\s*GHz", model)
    mhz = next((float(ln.split(":", 1)[1]) for ln in text.splitlines() if ln.startswith("cpu MHz")), 0.0)
    clock = float(found.group(1)) if found else mhz / 1000
    flags = cpu_flags()
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    cores = cores or len(os.sched_getaffinity(0))
    gflops = cores * clock * lanes * 2 * fma_units
    return CpuPeak(model, cores, clock, lanes, fma_units, gflops,
                   f"{cores} core(s) x {clock:.2f} GHz x {lanes} fp32 lanes x 2 (FMA) x {fma_units} FMA unit(s)")


def memory_bandwidth_gbs(megabytes: int = 256, repeats: int = 5, device: str = "cpu") -> float:
    """Best-of-``repeats`` copy bandwidth in GB/s (bytes read + written by ``dst.copy_(src)`` of a buffer far
    larger than the caches)."""
    n = megabytes * 2**20 // 4
    src, dst = torch.ones(n, device=device), torch.empty(n, device=device)
    dst.copy_(src)
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        t0 = time.perf_counter()
        dst.copy_(src)
        synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n * 4 / best / 1e9


def op_overhead_s(repeats: int = 2000, device: str = "cpu") -> float:
    """Seconds per call of a tiny eager operator: the dispatch overhead every kernel pays on CPU, the launch
    interval of back-to-back kernels on a GPU."""
    a = torch.ones(8, device=device)
    for _ in range(100):
        a.add(a)
    synchronize(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        a.add(a)
    synchronize(device)
    return (time.perf_counter() - t0) / repeats


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
    """Model FLOP utilisation: achieved FLOP/s over ``peak_gflops`` (the hardware peak, ``cpu_peak``)."""
    return flops_per_step / seconds_per_step / (peak_gflops * 1e9)
