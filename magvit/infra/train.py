"""The one training loop every model of the study uses.

``fit`` runs ``step_fn(step)`` for ``num_steps`` steps, checkpoints modules + optimizers + RNG
state through the artifact store every ``checkpoint_every`` steps, resumes from the latest
checkpoint after an interruption, and returns the per-step loss log as a DataFrame. On CPU a seeded
run repeats exactly, interrupted or not: every random draw of a step comes from the restored torch
RNG, and learning rates are a pure function of the step (``compound_lr``), so no scheduler state
exists to lose.

Faults: training and saving run under the artifact's lock (``ArtifactStore.lock``), so a second process
asking for the same artifact waits and then loads it instead of training it again. A finished artifact or
checkpoint that fails its integrity check (``magvit.infra.artifacts``) is moved to ``<kind>/damaged/`` with a
:class:`DamagedArtifactWarning` naming it, and training restarts from what is intact (the checkpoint, or
step 0); a seeded run then ends where an undamaged one would.

Under ``torchrun`` (``magvit.infra.distributed``) every rank runs ``fit``: rank 0 alone holds the lock, moves damaged
files and writes checkpoints and the artifact; the others load the same checkpoint and wait for rank 0 at the end.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch
import torch.utils.deterministic
from torch import nn

from magvit.infra.artifacts import ArtifactDamagedError, ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.distributed import barrier, broadcast_from_main, main_only, world
from magvit.infra.progress import progress

LOG_EVERY = 50  # steps whose device-side losses are read back at once


class DamagedArtifactWarning(UserWarning):
    """A cached artifact or checkpoint failed its integrity check and is being retrained."""


def compound_lr(step: int, base: float, warmup: int, total: int) -> float:
    """Linear warmup then cosine decay (scenic "compound", as the official configs set it)."""
    warm = min(1.0, (step + 1) / max(1, warmup))
    progress = max(0, step - warmup) / max(1, total - warmup)
    return base * warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def deterministic() -> None:
    """Make seeded training repeat bit for bit across processes, not only within one.

    Measured on the 2-core CPU: without this, two processes training the cpu tokenizer with the same seed
    agree for 8 steps and then drift apart (some multithreaded kernel accumulates in a thread-dependent order;
    which one was not isolated); single-threaded, or with deterministic algorithms, they agree exactly, the
    latter at no measured cost in step time (1.11 vs 1.12 s). ``warn_only``: on CUDA a few
    kernels (e.g. nearest-upsampling backward) have no deterministic version; they warn instead of failing.

    Deterministic mode also fills every new uninitialised tensor (a debugging aid: no result may depend on it). That
    is 394 fill kernels per step of the gpu profile's B transformer beside its 272 (counted on the CPU): on the H200
    the step ran at 57 per second inside notebook 02 against 128 in the benchmark without the mode. Off.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS' condition for determinism
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def fit(
    kind: str,
    config: Any,
    seed: int,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    step_fn: Callable[[int], dict[str, float]],
    num_steps: int,
    *,
    store: ArtifactStore | None = None,
    checkpoint_every: int = 200,
    device: str = "cpu",
    desc: str | None = None,
    finish: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Train (or load) the artifact ``kind`` for ``(config, seed)`` and return its loss log.

    If the finished artifact exists, the modules are loaded from it and nothing is trained.
    ``step_fn(step)`` performs one optimisation step in place and returns scalar losses; ``finish()`` runs
    once after the last step, before the artifact is written (so what it changes is part of the artifact).
    """
    check_seed(seed)
    store = store or ArtifactStore()
    if store.is_verified(kind, config, seed):  # the common case, without waiting for any lock
        try:
            return _restore(store.load(kind, config, seed, map_location=device), modules)
        except ArtifactDamagedError:
            pass  # repaired below, under the lock (another process may be rewriting it right now)
    with main_only(store.lock(kind, config, seed, what=f"training {desc or kind}")):
        log = _fit_locked(kind, config, seed, modules, optimizers, step_fn, num_steps, store,
                          checkpoint_every, device, desc, finish)
    barrier()  # the other ranks return once rank 0 has written the artifact
    return log


def _restore(state: dict, modules: dict[str, nn.Module]) -> pd.DataFrame:
    for name, module in modules.items():
        module.load_state_dict(state["modules"][name])
    return pd.DataFrame(state["log"])


def _load_or_quarantine(store: ArtifactStore, kind: str, config: Any, seed: int, device: str,
                        then: str) -> dict | None:
    """The artifact's state, or None (with a warning, the file moved aside) when it is damaged. Under torchrun
    rank 0 checks (and moves) first; the others then read what it left."""
    if not world().is_main:
        barrier()
    state = _load_or_quarantine_main(store, kind, config, seed, device, then) if world().is_main else (
        store.load(kind, config, seed, map_location=device) if store.exists(kind, config, seed) else None)
    if world().is_main:
        barrier()
    return state


def _load_or_quarantine_main(store: ArtifactStore, kind: str, config: Any, seed: int, device: str,
                             then: str) -> dict | None:
    if not store.exists(kind, config, seed):
        return None
    verified = store.is_verified(kind, config, seed)
    try:
        state = store.load(kind, config, seed, map_location=device)
    except ArtifactDamagedError as err:
        moved = store.quarantine(kind, config, seed)
        warnings.warn(f"{err.path} is damaged: {err.reason}. Moved it and its sidecar to {moved.parent}; {then}",
                      DamagedArtifactWarning, stacklevel=5)
        return None
    if not verified:  # a sidecar from before hashes: the file loaded cleanly, record its hash from now on
        store.record_hash(kind, config, seed)
    return state


def _fit_locked(kind: str, config: Any, seed: int, modules: dict[str, nn.Module],
                optimizers: dict[str, torch.optim.Optimizer], step_fn: Callable[[int], dict[str, float]],
                num_steps: int, store: ArtifactStore, checkpoint_every: int, device: str,
                desc: str | None, finish: Callable[[], None] | None = None) -> pd.DataFrame:
    state = _load_or_quarantine(store, kind, config, seed, device, "retraining it")
    if state is not None:  # finished meanwhile by another process, or an older sidecar now hashed
        return _restore(state, modules)

    ckpt_kind = f"{kind}.ckpt"
    log: dict[str, list[float]] = {}
    start = 0
    deterministic()
    torch.manual_seed(seed)
    ckpt = _load_or_quarantine(store, ckpt_kind, config, seed, device, "training from step 0")
    if ckpt is not None:
        for name, module in modules.items():
            module.load_state_dict(ckpt["modules"][name])
        for name, opt in optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        _set_rng_state(ckpt["rng"])
        log, start = ckpt["log"], int(ckpt["step"])
    broadcast_from_main(modules.values())  # under torchrun: every rank starts from rank 0's weights

    def checkpoint(step: int) -> None:
        if not world().is_main:
            return
        store.save(ckpt_kind, config, seed, {
            "modules": {n: m.state_dict() for n, m in modules.items()},
            "optimizers": {n: o.state_dict() for n, o in optimizers.items()},
            "rng": _rng_state(), "log": log, "step": step,
        }, device=device)

    for module in modules.values():
        module.train()
    # No graphic bar: the line must fit the study runner's status line (magvit.study) with step, time left
    # and the loss, which is the first postfix. Under MAGVIT_PROGRESS=summary only its final state is printed.
    bar = progress(range(start, num_steps), desc=desc or kind, initial=start, total=num_steps, mininterval=2.0,
               disable=not world().is_main,
               bar_format="{desc}: step {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]")
    # A step may return its losses as device tensors (no host synchronisation per step on a GPU): they are read
    # back and checked LOG_EVERY steps at a time, before any checkpoint and at the end; floats are logged at once.
    pending: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        for step, losses in pending:
            log.setdefault("step", []).append(step)
            for name, value in losses.items():
                value = float(value)
                if not math.isfinite(value):
                    raise FloatingPointError(f"{kind}: loss {name!r} is {value} at step {step}")
                log.setdefault(name, []).append(value)
        if pending:
            shown = sorted(pending[-1][1].items(), key=lambda kv: kv[0] != "loss")  # the total loss first
            bar.set_postfix({k: f"{float(v):.3g}" for k, v in shown}, refresh=False)
        pending.clear()

    for step in bar:
        losses = step_fn(step)
        pending.append((step, losses))
        if not any(isinstance(v, torch.Tensor) for v in losses.values()) or len(pending) >= LOG_EVERY:
            flush()
        if (step + 1) % checkpoint_every == 0 and step + 1 < num_steps:
            flush()
            checkpoint(step + 1)
    flush()
    for module in modules.values():
        module.eval()
    if finish is not None:
        finish()

    if world().is_main:
        store.save(kind, config, seed, {"modules": {n: m.state_dict() for n, m in modules.items()},
                                        "log": log}, device=device, extra={"steps": num_steps})
        store.delete(ckpt_kind, config, seed)
    return pd.DataFrame(log)
