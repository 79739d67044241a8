"""Video data: procedural stand-ins (``pushbot``, ``shapes``, ``scenes``) and real-format loaders.

``load(name, split, ...)`` returns a torch ``Dataset`` whose item ``i`` is ``(clip, labels)``: a
uint8 ``[T, H, W, 3]`` tensor and a dict of ints (``benchmark``, ``label``, ``speed``,
``direction``; -1 where not applicable). ``get_batch`` stacks items into the package's video
convention, float ``[B, 3, T, H, W]`` in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from magvit.data import real
from magvit.data.procedural import BENCHMARKS, LABEL_KEYS, SHAPES_CLASSES, SPLITS, make_clip
from magvit.data.video import to_video
from magvit.infra.checks import check_seed

REAL_DATASETS = ("ucf101", "bair", "kinetics600", "ssv2")
# effectively unbounded: a model trained for any budget here never sees a clip twice
PROCEDURAL_LENGTH = 10**9
# Generated clips kept per process (uint8, 48 KiB each at 16 x 32 x 32): the Table 7 models, the transformers of one
# notebook and every evaluation read the same clips again; generating one costs 10-20 ms of CPU
CLIP_CACHE_SIZE = 4096
_cached_clip = lru_cache(maxsize=CLIP_CACHE_SIZE)(make_clip)


class ProceduralVideo(Dataset):
    """A procedural benchmark split: clip ``i`` is generated on the fly, always the same array."""

    def __init__(self, name: str, split: str, num_frames: int = 16, resolution: int = 32,
                 seed: int = 0) -> None:
        if name not in BENCHMARKS:
            raise ValueError(f"unknown procedural benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        self.name, self.split, self.seed = name, split, check_seed(seed)
        self.num_frames, self.resolution = num_frames, resolution

    def __len__(self) -> int:
        return PROCEDURAL_LENGTH

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, int]]:
        if not 0 <= index < PROCEDURAL_LENGTH:
            raise IndexError(f"clip index {index} outside [0, {PROCEDURAL_LENGTH})")
        clip, labels = _cached_clip(self.name, self.split, index, self.num_frames, self.resolution, self.seed)
        return torch.from_numpy(clip.copy()), dict(labels)  # copies: a caller may write into what it gets

    def __repr__(self) -> str:
        return (f"ProceduralVideo({self.name!r}, {self.split!r}, num_frames={self.num_frames}, "
                f"resolution={self.resolution}, seed={self.seed})")


def load(name: str, split: str, num_frames: int = 16, resolution: int = 32, seed: int = 0,
         **kwargs) -> Dataset:
    """A benchmark split. Procedural: ``pushbot``, ``shapes``, ``scenes``. Real (need ``root=`` or
    ``$MAGVIT_DATA_<NAME>``): ``ucf101``, ``bair``, ``kinetics600``, ``ssv2`` (``skip_bad=True`` drops
    unreadable videos with a warning instead of stopping at the first; see ``magvit.data.real``)."""
    check_seed(seed)
    if name in BENCHMARKS:
        if kwargs:
            raise TypeError(f"procedural benchmark {name!r} takes no options {sorted(kwargs)}")
        return ProceduralVideo(name, split, num_frames, resolution, seed)
    if name in REAL_DATASETS:
        return real.LOADERS[name](split=split, num_frames=num_frames, resolution=resolution,
                                  seed=seed, **kwargs)
    raise ValueError(f"unknown dataset {name!r}; procedural: {', '.join(BENCHMARKS)}; "
                     f"real: {', '.join(REAL_DATASETS)}")


def get_batch(dataset: Dataset, indices: Iterable[int]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Stack items into ``video`` float [B, 3, T, H, W] in [0, 1] and label tensors [B]."""
    indices = [int(i) for i in indices]
    if not indices:
        raise ValueError("get_batch needs at least one index")
    size = len(dataset)
    outside = [i for i in indices if not 0 <= i < size]
    if outside:  # checked before reading anything: a tiny real split would otherwise fail halfway
        raise IndexError(f"get_batch: {dataset!r} has {size} clip(s), asked for index {max(outside, key=abs)}; "
                         "ask for fewer clips (e.g. a smaller profile's eval.num_samples) or use a larger split")
    items = [dataset[i] for i in indices]
    clips = torch.stack([clip for clip, _ in items])
    labels = {k: torch.tensor([lab[k] for _, lab in items]) for k in items[0][1]}
    return to_video(clips), labels


def mixed_batch(step: int, batch_size: int, num_frames: int, resolution: int, split: str = "train",
                seed: int = 0, names: tuple[str, ...] = BENCHMARKS) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """A batch with an equal share of each benchmark in ``names``: a pure function of ``step``.

    The indices advance with the step, so a training run never sees the same clip twice.
    """
    per = max(1, batch_size // len(names))
    parts = [get_batch(load(name, split, num_frames, resolution, seed), range(step * per, (step + 1) * per))
             for name in names]
    return torch.cat([v for v, _ in parts]), {k: torch.cat([lab[k] for _, lab in parts]) for k in parts[0][1]}


def clip_range(name: str, split: str, num_frames: int, resolution: int, seed: int, chunk: int,
               index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``get_batch`` of clips ``[index * chunk, (index + 1) * chunk)`` of a split: a picklable unit of work for
    :class:`StepBatches` (tokenising a finite training set, ``magvit.generative.token_memo.token_set``)."""
    return get_batch(load(name, split, num_frames, resolution, seed), range(index * chunk, (index + 1) * chunk))


class _Steps(Dataset):
    def __init__(self, fn: Callable[[int], Any], first: int, stop: int) -> None:
        self.fn, self.first, self.stop = fn, first, stop

    def __len__(self) -> int:
        return self.stop - self.first

    def __getitem__(self, i: int) -> Any:
        return self.fn(self.first + i)


class StepBatches:
    """``fn(step)`` for steps ``0 .. stop - 1``, drawn ahead by ``workers`` processes (procedural clips
    never on the training loop's thread: a GPU would wait on them); ``workers=0`` calls ``fn`` on the caller's
    thread, as before.

    ``fn`` must be picklable (a module-level function or a ``functools.partial`` of one) and a pure function of the
    step (every batch of the study is: ``mixed_batch``, ``tokenizer_batch``), so the batches are exactly those of the
    serial path. Steps are expected in order; asking for another step (a resumed run) restarts the workers there.
    Workers are ``torch.utils.data.DataLoader`` processes: they never touch the GPU, and return tensors through
    shared memory.
    """

    def __init__(self, fn: Callable[[int], Any], stop: int, workers: int = 0, prefetch: int = 4) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0 (0: draw on the caller's thread), got {workers}")
        self.fn, self.stop, self.workers, self.prefetch = fn, stop, workers, prefetch
        self._batches: Iterator[Any] | None = None
        self._next = -1

    def __call__(self, step: int) -> Any:
        if not self.workers or not 0 <= step < self.stop:
            return self.fn(step)
        if self._batches is None or step != self._next:
            loader = DataLoader(_Steps(self.fn, step, self.stop), batch_size=None, shuffle=False,
                                num_workers=min(self.workers, self.stop - step), prefetch_factor=self.prefetch,
                                # its own generator: the workers' seed must not be drawn from the global torch RNG,
                                # which the training loop's draws (and its checkpoints) own
                                generator=torch.Generator())
            self._batches, self._next = iter(loader), step
        self._next += 1
        return next(self._batches)

    def close(self) -> None:
        """Stop the workers (they also stop when the last step has been drawn, or when this object is freed)."""
        self._batches, self._next = None, -1


def num_classes(name: str) -> int:
    """Number of classes of a labelled benchmark (``shapes``; real datasets: their class count)."""
    counts = {"shapes": len(SHAPES_CLASSES), "ucf101": 101, "kinetics600": 600, "ssv2": 174}
    if name not in counts:
        raise ValueError(f"{name!r} has no class labels; labelled: {', '.join(counts)}")
    return counts[name]


__all__ = ["BENCHMARKS", "LABEL_KEYS", "REAL_DATASETS", "SHAPES_CLASSES", "SPLITS", "ProceduralVideo", "StepBatches",
           "clip_range", "get_batch", "load", "mixed_batch", "num_classes"]
