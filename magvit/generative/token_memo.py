"""Memoised tokenisation: the same frozen tokenizer on the same clips gives the same ids, so compute them once.

Notebook 05 trains three transformers (COMMIT, MaskGIT, AR) on the same pushbot batches with one tokenizer,
and tokenising a batch (clips and their condition clips) costs about 60% of a transformer training step at
`cpu`. :func:`encode` keys a batch by a hash of the tokenizer's weights and of the exact input bytes (shape,
dtype, order), so a hit returns exactly what ``tokenizer.encode`` computes for that input: a speed-up, never a
change of results. The cache lives in the process (one notebook) and keeps the most recent batches up to
``MAX_BYTES``.
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict

import torch
from torch import nn

MAX_BYTES = 512 * 2**20
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


@torch.no_grad()
def encode(tokenizer: nn.Module, video: torch.Tensor) -> torch.Tensor:
    """``tokenizer.encode(video)``, from the cache when these weights already encoded this exact input."""
    key = (weights_digest(tokenizer), tokenizer.training, digest(video))
    if key in _ids:
        _ids.move_to_end(key)
        return _ids[key].clone()
    ids = tokenizer.encode(video)
    _ids[key] = ids.clone()
    while len(_ids) > 1 and cached_bytes() > MAX_BYTES:  # least recently used first
        _ids.popitem(last=False)
    return ids


def cached_bytes() -> int:
    return sum(t.numel() * t.element_size() for t in _ids.values())


def clear() -> None:
    """Forget every cached batch (tests; or to free memory)."""
    _ids.clear()
