"""Memoised tokenisation: the same frozen tokenizer on the same clips gives the same ids, so compute them once.

Every transformer of the study trains on the frozen tokenizer's ids of the same clips (a dataset's training clips
are indexed by step for every model and seed), and tokenising a batch (clips and their condition clips) costs about
60% of a transformer training step at `cpu`. :func:`encode` keys a batch by a hash of the tokenizer's weights and of
the exact input bytes (shape, dtype, order), so a hit returns exactly what ``tokenizer.encode`` computed for that
input: a speed-up, never a change of results. Two levels: the process keeps the most recent batches up to
``MAX_BYTES``; eval-mode encodes are also kept on disk under ``<cache>/token_memo/`` (``$MAGVIT_CACHE``, written
atomically, int16 when the ids fit), so the notebooks that train on the same clips (05, 07, 08, 09 on ``pushbot``)
tokenise them once in the whole study. ``DISK = False`` turns the disk level off.
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from magvit.infra.atomic import atomic_torch_save
from magvit.infra.paths import cache_dir

MAX_BYTES = 512 * 2**20
DISK = True
_ids: OrderedDict[tuple[str, bool, str], torch.Tensor] = OrderedDict()
_weights: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, str]] = weakref.WeakKeyDictionary()


def digest(*tensors: torch.Tensor) -> str:
    """A hash of the tensors' shapes, dtypes and bytes."""
    h = hashlib.blake2b(digest_size=16)
    for t in tensors:
        t = t.detach()
        h.update(repr((tuple(t.shape), t.dtype)).encode())
        h.update(t.cpu().contiguous().flatten().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def weights_digest(module: nn.Module) -> str:
    """``digest`` of every parameter and buffer; recomputed only when one of them was modified in place
    (torch bumps a tensor's version counter on every in-place write, optimizer steps and loads included)."""
    state = module.state_dict()
    stamp = tuple((name, t.data_ptr(), t._version) for name, t in state.items())
    cached = _weights.get(module)
    if cached is None or cached[0] != stamp:
        cached = (stamp, digest(*state.values()))
        _weights[module] = cached
    return cached[1]


def disk_path(key: tuple[str, bool, str]) -> Path | None:
    """Where the ids of ``key`` live on disk: ``<cache>/token_memo/<weights>/<input>.pt``; None in training mode
    (batch statistics: not a function of the input alone) or when ``DISK`` is off."""
    weights, training, inputs = key
    if training or not DISK:
        return None
    return cache_dir() / "token_memo" / weights[:32] / f"{inputs}.pt"


@torch.no_grad()
def encode(tokenizer: nn.Module, video: torch.Tensor) -> torch.Tensor:
    """``tokenizer.encode(video)``, from the cache when these weights already encoded this exact input."""
    key = (weights_digest(tokenizer), tokenizer.training, digest(video))
    if key in _ids:
        _ids.move_to_end(key)
        return _ids[key].clone()
    path = disk_path(key)
    if path is not None and path.exists():
        ids = torch.load(path, map_location="cpu").long().to(video.device)
    else:
        ids = tokenizer.encode(video)
        if path is not None:
            small = ids.numel() == 0 or int(ids.max()) < 2**15
            atomic_torch_save(ids.to(torch.int16 if small else torch.int64).cpu(), path)
    _ids[key] = ids.clone()
    while len(_ids) > 1 and cached_bytes() > MAX_BYTES:  # least recently used first
        _ids.popitem(last=False)
    return ids


def cached_bytes() -> int:
    return sum(t.numel() * t.element_size() for t in _ids.values())


def clear() -> None:
    """Forget every cached batch (tests; or to free memory)."""
    _ids.clear()
