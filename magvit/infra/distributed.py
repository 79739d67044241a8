"""Data-parallel training under ``torchrun`` (the ``paper`` profile's scale-out), rank-count invariant.

    torchrun --nproc_per_node=8 -m magvit.scaleout --profile paper --stage tokenizer
    torchrun --nproc_per_node=8 -m magvit.scaleout --profile paper --stage transformer

(the launcher is ``magvit.scaleout``; this module holds the primitives the training steps use)

The paper trains on TPU pods (Sec. 4.1, "Implementation details"; official code: JAX ``pmap`` over devices,
``videogvt/train_lib``); here the engine is ``torch.distributed`` (NCCL on GPUs, gloo on CPU) launched by
``torchrun``. What a step means does not depend on the number of ranks:

- the config's global batch of a step is cut into ``chunks`` equal micro-batches (``Profile.data_parallel``);
  rank ``r`` of ``W`` takes chunks ``r, r + W, ...`` (``W`` must divide ``chunks``) and loads only their clips;
- every chunk draws its random numbers (tasks, mask ratios, dropout) after ``torch.manual_seed(chunk_seed(seed,
  step, chunk))``, so chunk ``c`` of step ``s`` is the same computation on any rank of any world size;
- each chunk's loss is scaled by ``1 / chunks`` and back-propagated (gradient accumulation); the ranks' gradients
  are summed by one all-reduce over a flat buffer, so every rank steps with the gradient of the mean chunk loss
  (then clipping, the learning rate of ``compound_lr(step)`` and the optimiser, as the config says);
- BatchNorm running statistics (the ``cpu``/``smoke`` tokenizers' scale adaptation) are averaged over chunks;
- rank 0 alone takes the artifact's lock and writes checkpoints and the finished artifact (atomically,
  ``magvit.infra.artifacts``); every rank resumes from the same checkpoint after an interruption.

So 1 process and 8 ranks give the same weights up to the order of float sums (tested with 2 ranks on CPU).

The gradient sync is a hand-written all-reduce, not ``nn.parallel.DistributedDataParallel``'s module wrapper: the
tokenizer's R1 penalty differentiates through the discriminator twice (``create_graph=True``) and updates G and D
from one forward with ``backward(inputs=...)``, which DDP's reducer does not support (StyleGAN2-ADA's training loop
makes the same choice). What is lost is DDP's overlap of communication with the backward pass: one all-reduce of
the flat gradient per step, after the last chunk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    """This process's place among the ranks of a run (rank 0 of 1 without torchrun)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def world() -> World:
    """The current process group's rank and size, else rank 0 of 1."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def init_from_env(device: str = "cpu") -> World:
    """Join the process group ``torchrun`` describes in the environment (NCCL for CUDA, gloo otherwise);
    a process started without torchrun stays rank 0 of 1."""
    if "WORLD_SIZE" not in os.environ or (dist.is_available() and dist.is_initialized()):
        return world()
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    return world()


def barrier() -> None:
    if world().size > 1:
        dist.barrier()


def main_only(context: AbstractContextManager) -> AbstractContextManager:
    """``context`` on rank 0 (e.g. the artifact lock), nothing on the other ranks."""
    return context if world().is_main else nullcontext()


def chunk_ranges(global_batch: int, chunks: int, wrld: World | None = None) -> list[tuple[int, range]]:
    """The (chunk index, rows of the global batch) this rank processes: chunks ``rank, rank + W, ...``."""
    wrld = wrld or world()
    if chunks < 1 or global_batch % chunks:
        raise ValueError(f"the global batch {global_batch} must split into {chunks} equal chunks")
    if chunks % wrld.size:
        raise ValueError(f"{wrld.size} ranks cannot share {chunks} chunks equally; use a world size that divides "
                         f"{chunks} (Profile.data_parallel)")
    size = global_batch // chunks
    return [(c, range(c * size, (c + 1) * size)) for c in range(wrld.rank, chunks, wrld.size)]


def chunk_seed(seed: int, step: int, chunk: int) -> int:
    """The torch seed of chunk ``chunk`` of step ``step``: a hash, so nearby (seed, step, chunk) are unrelated."""
    digest = hashlib.sha256(f"magvit/{seed}/{step}/{chunk}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def all_reduce_sum_(tensors: Iterable[torch.Tensor]) -> None:
    """Sum ``tensors`` in place over the ranks, as one flat buffer (no-op for one rank)."""
    tensors = list(tensors)
    if world().size == 1 or not tensors:
        return
    flat = torch.cat([t.reshape(-1).to(torch.float64 if t.dtype == torch.float64 else torch.float32)
                      for t in tensors])
    dist.all_reduce(flat)
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()


def sync_gradients(parameters: Iterable[nn.Parameter]) -> None:
    """Sum every parameter's gradient over the ranks (each rank already scaled its chunks by 1 / chunks)."""
    params = [p for p in parameters if p.requires_grad]
    for p in params:
        if p.grad is None:  # a parameter this step did not reach on this rank: it contributes zero
            p.grad = torch.zeros_like(p)
    all_reduce_sum_(p.grad for p in params)


def broadcast_from_main(modules: Iterable[nn.Module]) -> None:
    """Copy rank 0's parameters and buffers to every rank (as DDP's constructor does): the replicas start equal
    even where an initialisation drew from a global RNG that the ranks had advanced differently."""
    if world().size == 1:
        return
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            with torch.no_grad():
                dist.broadcast(tensor.data, src=0)


def mean_over_chunks(values: dict[str, float], local_chunks: int, chunks: int) -> dict[str, float]:
    """``values`` summed over this rank's chunks -> the mean over all chunks of the step (every rank)."""
    names = sorted(values)
    flat = torch.tensor([values[n] for n in names], dtype=torch.float64)
    all_reduce_sum_([flat])
    return {n: float(v) / chunks for n, v in zip(names, flat.tolist(), strict=True)}


@contextmanager
def averaged_buffers(modules: Iterable[nn.Module], chunks: int) -> Iterator[Callable[[], None]]:
    """Running statistics (BatchNorm) over a step's chunks: each chunk starts from the step's buffers; after
    the step every buffer is the mean of its value after each chunk (over all ranks). Call the yielded
    function after each chunk."""
    buffers = [b for m in modules for b in m.buffers() if b.is_floating_point() or b.dtype == torch.long]
    start = [b.detach().clone() for b in buffers]
    total = [torch.zeros_like(b, dtype=torch.float64) for b in buffers]

    def after_chunk() -> None:
        for b, s, t in zip(buffers, start, total, strict=True):
            t += b.detach().double()
            b.copy_(s)

    yield after_chunk
    all_reduce_sum_(total)
    for b, t in zip(buffers, total, strict=True):
        b.copy_((t / chunks).to(b.dtype))


def run_chunks(seed: int, step: int, global_batch: int, chunks: int,
               chunk_fn: Callable[[range, float], dict[str, float]],
               buffer_modules: Iterable[nn.Module] = ()) -> dict[str, float]:
    """Run ``chunk_fn(rows, scale)`` (forward + backward of the loss times ``scale``) for this rank's chunks of
    one step, each after ``torch.manual_seed(chunk_seed(...))``; return each loss's mean over all chunks.
    The caller then syncs the gradients (``sync_gradients``) and steps its optimisers."""
    mine = chunk_ranges(global_batch, chunks)
    sums: dict[str, float] = {}
    with averaged_buffers(buffer_modules, chunks) as after_chunk:
        for chunk, rows in mine:
            torch.manual_seed(chunk_seed(seed, step, chunk))
            for name, value in chunk_fn(rows, 1.0 / chunks).items():
                sums[name] = sums.get(name, 0.0) + float(value)
            after_chunk()
    return mean_over_chunks(sums, len(mine), chunks)


@dataclass(frozen=True)
class ChunkedKey:
    """The artifact key of a model trained by ``run_chunks``: its usual key plus the chunking (a chunked run is
    another computation than the plain single-process step, so it never shares a cache entry with one)."""

    key: object
    chunks: int
