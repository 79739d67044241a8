"""The ten video generation tasks of MAGVIT (paper Sec. 3.2, Fig. 2; official
``videogvt/train_lib/task_registry.py`` and ``cond_utils.py``).

A task is an interior-condition region in pixel space plus a padding function: the clean video V
is cropped to the region and padded back to full size, giving the condition video V~. Its tokens
z~ = f_T(V~) and the per-token flag ``ispad`` (true when the token's supervoxel holds only padding)
feed COMMIT (``magvit.generative.commit``). ``ispad`` is computed analytically from the region and the
tokenizer's compression factors (a supervoxel is a condition token iff its pixel box intersects the
region), never by looking at the video.

Regions and padding follow the official ``cond_utils.py`` as the spec gives them:

====  =====================================================  ======================================
task  condition region (pixels, T x H x W)                   padding of V~
====  =====================================================  ======================================
FP    the first ``cond_frames`` frames                       repeat the last condition frame
FI    the first and the last ``cond_frames`` frames          linear interpolation between them
OPC   central box rows H/4..3H/4, cols W/4..3W/4             edge (replicate) padding
OPV   central vertical band, cols W/4..3W/4                  edge
OPH   central horizontal band, rows H/4..3H/4                edge
OPD   band of width W/2 whose left edge moves 0 -> W/2       constant 0
IPC   everything but the central box                         constant 0 in the hole
IPD   everything but a box moving like OPD's band            constant 0 in the hole
CG    none (class token carries the condition)               -
CFP   as FP, with the class token                            as FP
====  =====================================================  ======================================

Where the official code applies the dynamic-band rule directly at latent scale (``round(linspace(0,
w/2, t))``), we derive the latent region from the pixel region with the paper's supervoxel
definition, so ``ispad`` means exactly what Eq. 2 says.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from magvit.data.video import check_video
from magvit.generative import token_memo
from magvit.generative.commit import MASK, RECONS, REFINE, commit_kinds, cutoff, mask_count
from magvit.generative.transformer import Vocabulary

TASKS = ("FP", "FI", "OPC", "OPV", "OPH", "OPD", "IPC", "IPD", "CG", "CFP")
MT8 = ("FP", "FI", "OPH", "OPV", "OPC", "OPD", "IPC", "IPD")  # BAIR multi-task (no class tasks)
MT10 = MT8 + ("CG", "CFP")  # SSv2 multi-task (Tab. 4): the eight BAIR tasks and the two class-conditional ones

# task -> (prompt token, class-conditional, description)
TASK_INFO: dict[str, tuple[str, bool, str]] = {
    "FP": ("TASK_FRAME_PREDICTION", False, "frame prediction"),
    "FI": ("TASK_FRAME_INTERPOLATION", False, "frame interpolation"),
    "OPC": ("TASK_OUTPAINTING", False, "central outpainting"),
    "OPV": ("TASK_OUTPAINTING", False, "vertical outpainting"),
    "OPH": ("TASK_OUTPAINTING", False, "horizontal outpainting"),
    "OPD": ("TASK_OUTPAINTING", False, "dynamic outpainting"),
    "IPC": ("TASK_INPAINTING", False, "central inpainting"),
    "IPD": ("TASK_INPAINTING", False, "dynamic inpainting"),
    "CG": ("TASK_FULL_GENERATION", True, "class-conditional generation"),
    "CFP": ("TASK_FRAME_PREDICTION", True, "class-conditional frame prediction"),
    # not one of the ten: the unconditional model of Tab. 4's UNC rows (CG's full-generation prompt, no class, no
    # condition region; the region and padding functions treat a task without a region as "no condition")
    "UNC": ("TASK_FULL_GENERATION", False, "unconditional generation"),
}


def check_task(name: str) -> str:
    if name not in TASK_INFO:
        raise ValueError(f"unknown task {name!r}; the ten tasks are: {', '.join(TASKS)} (and UNC, unconditional)")
    return name


def is_class_conditional(name: str) -> bool:
    return TASK_INFO[check_task(name)][1]


def prompt_id(name: str, vocab: Vocabulary, inpainting_token: str = "inpainting") -> int:
    """The task prompt rho. Inpainting gets its own token (paper / the code's bug patch) unless
    ``inpainting_token="outpainting"`` (the released code's default, ``cond_utils.py``;
    docs/design.md)."""
    token = TASK_INFO[check_task(name)][0]
    if token == "TASK_INPAINTING":
        if inpainting_token not in ("inpainting", "outpainting"):
            raise ValueError(f"inpainting_token must be 'inpainting' or 'outpainting', got {inpainting_token!r}")
        if inpainting_token == "outpainting":
            token = "TASK_OUTPAINTING"
    return vocab.special(token)


def dynamic_starts(num_frames: int, width: int) -> np.ndarray:
    """Left edge of the moving band per frame: ``round(linspace(0, W/2, T))`` (official code)."""
    return np.round(np.linspace(0, width // 2, num_frames)).astype(int)


def condition_region(name: str, shape: tuple[int, int, int], cond_frames: int = 1) -> torch.Tensor:
    """Bool [T, H, W]: True where a pixel belongs to the interior condition of task ``name``."""
    check_task(name)
    t, h, w = shape
    if name in ("FP", "CFP", "FI") and not 1 <= cond_frames <= (t if name != "FI" else t // 2):
        raise ValueError(f"cond_frames={cond_frames} does not fit {t} frames for task {name}")
    region = torch.zeros(t, h, w, dtype=torch.bool)
    rows, cols = slice(h // 4, 3 * h // 4), slice(w // 4, 3 * w // 4)
    if name in ("FP", "CFP"):
        region[:cond_frames] = True
    elif name == "FI":
        region[:cond_frames] = True
        region[t - cond_frames:] = True
    elif name == "OPC":
        region[:, rows, cols] = True
    elif name == "OPV":
        region[:, :, cols] = True
    elif name == "OPH":
        region[:, rows, :] = True
    elif name in ("OPD", "IPD"):
        for i, start in enumerate(dynamic_starts(t, w)):
            if name == "OPD":
                region[i, :, start:start + w // 2] = True
            else:
                region[i, rows, start:start + w // 2] = True
        if name == "IPD":
            region = ~region
    elif name == "IPC":
        region[:, rows, cols] = True
        region = ~region
    return region  # CG: no condition pixels


def edge_pad(video: torch.Tensor, rows: slice, cols: slice) -> torch.Tensor:
    """Crop [..., H, W] to ``rows x cols`` and pad back with replicated edges (numpy mode 'edge')."""
    h, w = video.shape[-2:]
    row_idx = torch.arange(h, device=video.device).clamp(rows.start, rows.stop - 1)
    col_idx = torch.arange(w, device=video.device).clamp(cols.start, cols.stop - 1)
    return video[..., row_idx, :][..., col_idx]


def condition_video(video: torch.Tensor, name: str, cond_frames: int = 1) -> torch.Tensor:
    """V~: the video cropped to the task's condition region and padded back (paper Sec. 3.2; cond_utils.py).

    video [B, 3, T, H, W] in [0, 1] -> V~ [B, 3, T, H, W] in [0, 1].
    """
    check_video(video, "video")
    check_task(name)
    _, _, t, h, w = video.shape
    region = condition_region(name, (t, h, w), cond_frames).to(video.device)
    rows, cols = slice(h // 4, 3 * h // 4), slice(w // 4, 3 * w // 4)
    if name in ("FP", "CFP"):
        # replicate the last condition frame over the remaining frames
        last = video[:, :, cond_frames - 1:cond_frames]
        return torch.cat([video[:, :, :cond_frames], last.expand(-1, -1, t - cond_frames, -1, -1)], dim=2)
    if name == "FI":
        # frames between the two condition blocks: (1 - k/(L+1)) V[c-1] + k/(L+1) V[T-c], k = 1..L
        gap = t - 2 * cond_frames
        first, last = video[:, :, cond_frames - 1], video[:, :, t - cond_frames]
        weights = torch.arange(1, gap + 1, device=video.device, dtype=video.dtype) / (gap + 1)
        weights = weights.view(1, 1, gap, 1, 1)
        middle = (1 - weights) * first.unsqueeze(2) + weights * last.unsqueeze(2)
        return torch.cat([video[:, :, :cond_frames], middle, video[:, :, t - cond_frames:]], dim=2)
    if name == "OPC":
        return edge_pad(video, rows, cols)
    if name == "OPV":
        return edge_pad(video, slice(0, h), cols)
    if name == "OPH":
        return edge_pad(video, rows, slice(0, w))
    # OPD, IPC, IPD: constant 0 outside the region; CG: no condition at all
    return video * region.to(video.dtype)


def compression(video_shape: tuple[int, int, int], latent_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """The tokenizer's (T/t, H/h, W/w) compression factors; each must divide exactly."""
    factors = []
    for size, latent, axis in zip(video_shape, latent_shape, "THW", strict=True):
        if latent < 1 or size % latent:
            raise ValueError(f"video {axis}={size} is not a multiple of latent {axis.lower()}={latent}; "
                             f"video {tuple(video_shape)} vs latent {tuple(latent_shape)}")
        factors.append(size // latent)
    return tuple(factors)


def latent_condition(name: str, video_shape: tuple[int, int, int], latent_shape: tuple[int, int, int],
                     cond_frames: int = 1) -> torch.Tensor:
    """Bool [t, h, w]: True where a token's supervoxel holds condition pixels (= not ispad)."""
    factors = compression(video_shape, latent_shape)
    region = condition_region(name, video_shape, cond_frames).float()[None, None]  # [1, 1, T, H, W]
    return F.max_pool3d(region, kernel_size=factors, stride=factors)[0, 0] > 0


def ispad(name: str, video_shape: tuple[int, int, int], latent_shape: tuple[int, int, int],
          cond_frames: int = 1) -> torch.Tensor:
    """Bool [t, h, w]: True where the token's supervoxel in V~ holds only padding (Eq. 2)."""
    return ~latent_condition(name, video_shape, latent_shape, cond_frames)


@dataclass
class Conditioned:
    """One batch turned into COMMIT's inputs: targets z, condition tokens z~, ispad, prefix [rho, c]."""

    z: torch.Tensor  # [B, N] tokens of the real video, f_T(V)
    z_tilde: torch.Tensor  # [B, N] tokens of the condition video, f_T(V~)
    ispad: torch.Tensor  # [B, N] bool
    prefix: torch.Tensor  # [B, 2] task prompt rho and class token c
    tasks: list[str]
    condition_video: torch.Tensor  # [B, 3, T, H, W] V~


def check_tokenizer(tokenizer: nn.Module, vocab: Vocabulary) -> None:
    if tokenizer.codebook_size != vocab.codebook_size:
        raise ValueError(f"tokenizer codebook has {tokenizer.codebook_size} codes but the transformer's "
                         f"vocabulary expects {vocab.codebook_size}; use the tokenizer it was trained with")


def prepare_batch(tokenizer: nn.Module, video: torch.Tensor, tasks: list[str] | str, vocab: Vocabulary,
                  labels: torch.Tensor | None = None, cond_frames: int = 1,
                  inpainting_token: str = "inpainting") -> Conditioned:
    """Build V~ per example's task, tokenise V and V~ in one tokenizer call (as the official trainer
    does), and return z, z~, ispad and the prefix. ``labels`` (class ids) are used by CG/CFP only."""
    check_video(video, "video")
    check_tokenizer(tokenizer, vocab)
    b, _, t, h, w = video.shape
    tasks = [tasks] * b if isinstance(tasks, str) else list(tasks)
    if len(tasks) != b:
        raise ValueError(f"{len(tasks)} tasks given for a batch of {b} videos")
    for name in tasks:
        check_task(name)
    cond_video = torch.empty_like(video)
    pad = torch.empty(b, *tokenizer.latent_shape, dtype=torch.bool, device=video.device)
    for name in dict.fromkeys(tasks):
        rows = [i for i, n in enumerate(tasks) if n == name]
        cond_video[rows] = condition_video(video[rows], name, cond_frames)
        pad[rows] = ispad(name, (t, h, w), tokenizer.latent_shape, cond_frames).to(video.device)
    # V and V~ tokenised apart (the official trainer makes one call; in eval mode the ids are the same up to float
    # ties), memoised: every model of a dataset shares V's ids, every model of its task set shares V~'s
    z = token_memo.encode(tokenizer, video).flatten(1)  # [B, N], (t, h, w) row-major
    z_tilde = token_memo.encode(tokenizer, cond_video).flatten(1)  # [B, N]
    if z.min() < 0 or z.max() >= vocab.codebook_size:
        raise ValueError(f"tokenizer returned ids outside [0, {vocab.codebook_size})")
    class_conditional = torch.tensor([is_class_conditional(n) for n in tasks], device=video.device)
    if class_conditional.any() and labels is None:
        raise ValueError(f"tasks {sorted({n for n in tasks if is_class_conditional(n)})} need class labels")
    if labels is not None:
        labels = torch.where(class_conditional, torch.as_tensor(labels, device=video.device).long(), -1)
    classes = vocab.class_ids(labels, b, video.device)
    prompts = torch.tensor([prompt_id(n, vocab, inpainting_token) for n in tasks], device=video.device)
    prefix = torch.stack([prompts, classes], dim=1)
    return Conditioned(z=z, z_tilde=z_tilde, ispad=pad.flatten(1), prefix=prefix, tasks=tasks,
                       condition_video=cond_video)


# colours of the token maps (Fig. 2): condition token z~, [MASK], target token z
KIND_COLOURS = {"refine": (0.30, 0.69, 0.29), "mask": (0.35, 0.35, 0.35), "recons": (0.55, 0.75, 0.95)}


def task_figure(tokenizer: nn.Module, clip: torch.Tensor, ratio: float = 0.5, seed: int = 0, cond_frames: int = 1,
                frames: tuple[int, ...] | None = None) -> tuple[Figure, pd.DataFrame]:
    """Fig. 2 on our data: for each of the ten tasks, V~ at a few frames, ``ispad`` per latent frame
    and the COMMIT input m(z | z~) at mask ratio ``ratio`` (green z~, grey [MASK], blue z).

    clip [1, 3, T, H, W] -> (matplotlib figure, DataFrame of per-task token counts).
    """
    check_video(clip, "clip")
    if clip.shape[0] != 1:
        raise ValueError(f"task_figure draws one clip [1, 3, T, H, W], got batch {clip.shape[0]}")
    vocab = Vocabulary(tokenizer.codebook_size, num_classes=1)
    batch = clip.expand(len(TASKS), -1, -1, -1, -1)
    cond = prepare_batch(tokenizer, batch, list(TASKS), vocab, labels=torch.zeros(len(TASKS), dtype=torch.long),
                         cond_frames=cond_frames)
    t, h, w = tokenizer.latent_shape
    n = t * h * w
    s = torch.rand(1, n, generator=torch.Generator().manual_seed(seed)).expand(len(TASKS), n)
    s_star = cutoff(s, mask_count(ratio, n).expand(len(TASKS)))
    kinds = commit_kinds(cond.ispad, s, s_star).view(len(TASKS), t, h, w)
    pad = cond.ispad.view(len(TASKS), t, h, w)
    frames = frames or tuple(sorted({0, clip.shape[2] // 3, 2 * clip.shape[2] // 3, clip.shape[2] - 1}))
    colours = torch.tensor([KIND_COLOURS["recons"], KIND_COLOURS["mask"], KIND_COLOURS["refine"]])
    cols = len(frames) + 2 * t
    fig, axes = plt.subplots(len(TASKS), cols, figsize=(cols * 0.75, len(TASKS) * 0.8), squeeze=False)
    for i, name in enumerate(TASKS):
        panels = [cond.condition_video[i, :, f].permute(1, 2, 0).clamp(0, 1).cpu().numpy() for f in frames]
        panels += [torch.where(pad[i, j, ..., None].cpu(), 1.0, torch.tensor(KIND_COLOURS["refine"])).numpy()
                   for j in range(t)]
        panels += [colours[kinds[i, j].cpu()].numpy() for j in range(t)]
        titles = [f"V~ t={f}" for f in frames] + [f"ispad t'={j}" for j in range(t)] + \
                 [f"m(z|z~) t'={j}" for j in range(t)]
        for ax, panel, title in zip(axes[i], panels, titles, strict=True):
            ax.imshow(panel, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=6)
        axes[i, 0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(f"the ten tasks: condition video V~, ispad (white = padding only) and the COMMIT input at "
                 f"ratio {ratio} (green z~ / grey [MASK] / blue z)", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.1)
    flat = kinds.flatten(1)
    summary = pd.DataFrame({
        "task": list(TASKS),
        "condition_pixels_%": [round(100 * float(condition_region(nm, tuple(clip.shape[2:]), cond_frames)
                                                .float().mean()), 1) for nm in TASKS],
        "condition_tokens": (~cond.ispad).sum(1).tolist(),
        "padding_tokens": cond.ispad.sum(1).tolist(),
        "refine (z~)": (flat == REFINE).sum(1).tolist(),
        "mask ([MASK])": (flat == MASK).sum(1).tolist(),
        "recons (z)": (flat == RECONS).sum(1).tolist(),
    })
    return fig, summary
