"""A finite training set as the frozen tokenizer's ids (the token-set path: the GPU profile trains on it).

The paper trains on a fixed dataset; the ``cpu`` profile streams a fresh clip every step and tokenises it (memoised
by ``magvit.generative.token_memo``). With ``Profile.speed.train_clips`` = N > 0, :func:`token_set` tokenises the
first N training clips of a dataset once per (tokenizer, dataset, tasks): V's ids and each task's V~ ids
(``magvit.generative.tasks.condition_video``, as the official trainer builds V~ from V), kept on disk under
``<cache>/token_sets/`` and on the device; ``magvit.generative.train`` then draws batches of ids on the device, with
the condition tokens [rho, c] and ``ispad`` built there too, and never reads anything back to the host per step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from torch import nn

from magvit import data as video_data
from magvit.generative import token_memo
from magvit.generative.tasks import condition_video, ispad
from magvit.infra.atomic import atomic_torch_save
from magvit.infra.locks import file_lock
from magvit.infra.paths import cache_dir


@dataclass(frozen=True)
class TokenSet:
    """A finite training set as the frozen tokenizer's ids (the token-set path: a GPU profile's transformers train on
    these, drawn at random on the device, instead of tokenising fresh clips every step).

    ``z`` [N, n]: the ids of the first N training clips V; ``z_tilde`` [T, N, n]: the ids of each task's condition
    video V~ (``tasks[i]``, ``magvit.generative.tasks.condition_video``); ``labels`` [N] class ids (-1: none);
    ``ispad`` [T, n] per task (Eq. 2). Every id lies in [0, codebook_size): checked once when the set is built or
    loaded, so the training steps need no host read-back.
    """

    z: torch.Tensor
    z_tilde: torch.Tensor
    labels: torch.Tensor
    ispad: torch.Tensor
    tasks: tuple[str, ...]

    def __len__(self) -> int:
        return self.z.shape[0]

    def to(self, device: str | torch.device) -> TokenSet:
        return TokenSet(self.z.to(device), self.z_tilde.to(device), self.labels.to(device), self.ispad.to(device),
                        self.tasks)


def token_set_path(tokenizer: nn.Module, dataset: str, tasks: tuple[str, ...], clips: int, num_frames: int,
                   resolution: int, cond_frames: int, seed: int = 0) -> Path:
    """``<cache>/token_sets/<weights>/<set>.pt``: keyed by the tokenizer's weights and everything that picks the
    clips and the condition videos."""
    what = repr((dataset, "train", tuple(tasks), clips, num_frames, resolution, cond_frames, seed))
    name = hashlib.blake2b(what.encode(), digest_size=12).hexdigest()
    return cache_dir() / "token_sets" / token_memo.weights_digest(tokenizer)[:32] / f"{name}.pt"


@torch.no_grad()
def token_set(tokenizer: nn.Module, dataset: str, tasks: tuple[str, ...], clips: int, num_frames: int,
              resolution: int, cond_frames: int = 1, seed: int = 0, workers: int = 0, chunk: int = 256,
              device: str | torch.device | None = None) -> TokenSet:
    """The ids of the first ``clips`` training clips of ``dataset`` and of their condition videos for ``tasks``,
    from the disk cache or tokenised now (in eval mode, ``chunk`` clips per call, the clips drawn by ``workers``
    processes); on ``device`` (default: the tokenizer's). Built under a lock: two notebooks asking for the same set
    build it once."""
    if clips < 1:
        raise ValueError(f"a token set needs at least one clip, got clips={clips}")
    tasks = tuple(tasks)
    tokenizer.eval()
    device = device or next(tokenizer.parameters()).device
    path = token_set_path(tokenizer, dataset, tasks, clips, num_frames, resolution, cond_frames, seed)
    with file_lock(path.with_suffix(".lock"), what=f"tokenising {clips} {dataset} clips"):
        if path.exists():
            saved = torch.load(path, map_location="cpu", weights_only=True)
            z, z_tilde, labels = saved["z"].long(), saved["z_tilde"].long(), saved["labels"].long()
        else:
            chunk = min(chunk, clips)
            draws = -(-clips // chunk)
            fn = partial(video_data.clip_range, dataset, "train", num_frames, resolution, seed, chunk)
            draw = video_data.StepBatches(fn, draws, workers)
            zs, zts, labs = [], [], []
            for i in range(draws):
                video, lab = draw(i)
                video = video.to(device, non_blocking=True)
                zs.append(tokenizer.encode(video).flatten(1).cpu())
                zts.append(torch.stack([tokenizer.encode(condition_video(video, name, cond_frames)).flatten(1).cpu()
                                        for name in tasks]))
                labs.append(lab["label"])
            draw.close()
            z, z_tilde, labels = (torch.cat(zs)[:clips], torch.cat(zts, dim=1)[:, :clips],
                                  torch.cat(labs)[:clips].long())
            small = max(int(z.max()), int(z_tilde.max())) < 2**15
            kind = torch.int16 if small else torch.int64
            atomic_torch_save({"z": z.to(kind), "z_tilde": z_tilde.to(kind), "labels": labels}, path)
    codebook = tokenizer.codebook_size
    low, high = min(int(z.min()), int(z_tilde.min())), max(int(z.max()), int(z_tilde.max()))
    if low < 0 or high >= codebook:  # once per set: the training steps never read ids back
        raise ValueError(f"token set {path} holds ids in [{low}, {high}], outside [0, {codebook}): the tokenizer "
                         "that made it is not this one; delete the file and rerun")
    shape = (num_frames, resolution, resolution)
    pads = torch.stack([ispad(name, shape, tuple(tokenizer.latent_shape), cond_frames).flatten() for name in tasks])
    return TokenSet(z, z_tilde, labels, pads, tasks).to(device)
