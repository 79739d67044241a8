"""COMMIT: conditional masked modeling by interior tokens (paper Sec. 3.2, Eq. 2-4; official
``videogvt/train_lib/mask_utils.py``).

Training corrupts the target tokens z with a multivariate mask m(z | z~): each position i gets a
score s_i ~ U(0, 1); with a ratio gamma(r), r ~ U(0, 1), the cut-off s* is the
ceil(gamma(r) N)-th smallest score, and

    m(z_i | z~_i) = z~_i     if s_i <= s* and not ispad(z~_i)    (refine a condition token)
                    [MASK]   if s_i <= s* and ispad(z~_i)        (predict a masked token)
                    z_i      if s_i >  s*                        (reconstruct a target token)

The cross-entropy over all N positions splits into L_refine + L_mask + L_recons (Eq. 4); the
``losses`` switch trains on a subset (Tab. 5 ablation). Two baselines share the machinery: latent
masking as in MaskGIT (condition positions never masked and shown as tokens, loss on [MASK] only)
and prefix condition (condition tokens prepended to a plain MTM sequence).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# what each visual position holds in the corrupted input (the three parts of Eq. 4, and latent
# masking's given condition positions, which carry no loss)
RECONS, MASK, REFINE, GIVEN = 0, 1, 2, 3
KIND_NAMES = {RECONS: "recons", MASK: "mask", REFINE: "refine", GIVEN: "given"}
LOSS_MODES: dict[str, tuple[int, ...]] = {
    "mask": (MASK,),
    "mask+recons": (MASK, RECONS),
    "mask+recons+refine": (MASK, RECONS, REFINE),
}
CONDITION_MODES = ("commit", "latent", "prefix", "ar")
MASK_COUNTS = ("ceil", "floor")


def gamma(r: float | torch.Tensor) -> float | torch.Tensor:
    """Cosine mask schedule gamma(r) = cos(pi r / 2), clipped to [1e-6, 1] (official mask_schedule.py)."""
    if isinstance(r, torch.Tensor):
        return torch.cos(math.pi / 2 * r).clamp(1e-6, 1.0)
    return min(1.0, max(1e-6, math.cos(math.pi / 2 * r)))


def mask_count(ratio: float | torch.Tensor, n: int | torch.Tensor, mode: str = "ceil") -> torch.Tensor:
    """How many of ``n`` positions a ratio masks: ceil(ratio n) (paper) or floor(ratio n) (official
    code), clipped to [1, n]. Works elementwise on tensors."""
    if mode not in MASK_COUNTS:
        raise ValueError(f"mask count mode must be one of {MASK_COUNTS}, got {mode!r}")
    ratio, n = torch.as_tensor(ratio, dtype=torch.float64), torch.as_tensor(n)
    count = torch.ceil(ratio * n) if mode == "ceil" else torch.floor(ratio * n)
    return torch.minimum(count.long().clamp(min=1), n.long().clamp(min=1))


def cutoff(scores: torch.Tensor, count: torch.Tensor | int) -> torch.Tensor:
    """s*: the ``count``-th smallest score per row. scores [B, N], count [B] or int -> s* [B, 1]."""
    count = torch.as_tensor(count, device=scores.device).long().expand(scores.shape[0])
    # checked on the host except on a GPU, where reading it back would stall every training step;
    # mask_count's counts lie in [1, n] by construction
    if scores.device.type == "cpu" and ((count < 1).any() or (count > scores.shape[1]).any()):
        raise ValueError(f"mask counts must lie in [1, {scores.shape[1]}], got {count.tolist()}")
    ordered = scores.sort(dim=1).values
    return ordered.gather(1, (count - 1)[:, None])


def commit_mask(z: torch.Tensor, z_tilde: torch.Tensor, ispad: torch.Tensor, s: torch.Tensor,
                s_star: torch.Tensor | float, mask_id: int) -> torch.Tensor:
    """Eq. 2, elementwise on any (broadcastable) shape: z~ where s <= s* and the supervoxel holds
    condition pixels, [MASK] where s <= s* and it holds only padding, z elsewhere."""
    if z.shape != z_tilde.shape or z.shape != ispad.shape:
        raise ValueError(f"z {tuple(z.shape)}, z_tilde {tuple(z_tilde.shape)} and ispad "
                         f"{tuple(ispad.shape)} must have the same shape")
    if ispad.dtype != torch.bool:
        raise TypeError(f"ispad must be a bool tensor, got {ispad.dtype}")
    selected = s <= s_star
    corrupted = torch.where(ispad, torch.full_like(z, mask_id), z_tilde)
    return torch.where(selected, corrupted, z)


def commit_kinds(ispad: torch.Tensor, s: torch.Tensor, s_star: torch.Tensor | float) -> torch.Tensor:
    """Which term of Eq. 4 each position belongs to: REFINE, MASK or RECONS (same shape as ispad)."""
    selected = s <= s_star
    kinds = torch.where(ispad, torch.full_like(ispad, MASK, dtype=torch.long), REFINE)
    return torch.where(selected, kinds, RECONS)


def latent_mask(z_given: torch.Tensor, ispad: torch.Tensor, s: torch.Tensor, s_star: torch.Tensor | float,
                mask_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Latent masking as in MaskGIT (the Tab. 5 baseline): condition positions (not ispad) are never
    masked and show ``z_given`` (the real tokens z in training, which leak the future through the
    tokenizer's receptive field; z~ at inference); the rest are [MASK] where s <= s*, else z_given.
    Returns (inputs, kinds) with kinds GIVEN / MASK / RECONS."""
    selected = (s <= s_star) & ispad
    inputs = torch.where(selected, torch.full_like(z_given, mask_id), z_given)
    kinds = torch.where(selected, MASK, torch.where(ispad, RECONS, GIVEN))
    return inputs, kinds


def corrupt(z: torch.Tensor, z_tilde: torch.Tensor, ispad: torch.Tensor, ratio: torch.Tensor, mask_id: int,
            condition: str = "commit", count_mode: str = "ceil",
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample scores and the cut-off for a batch and corrupt it (training, paper Eq. 2).

    z, z_tilde [B, N] long, ispad [B, N] bool, ratio [B] = gamma(r) -> (inputs [B, N], kinds [B, N]).
    ``condition``: "commit" (Eq. 2), "latent" (MaskGIT: only padding positions are maskable, count
    from their number), "prefix" (plain MTM over all N positions; the condition is in the prefix).
    """
    if condition not in CONDITION_MODES:
        raise ValueError(f"condition must be one of {CONDITION_MODES}, got {condition!r}")
    if condition == "ar":
        raise ValueError("the autoregressive baseline is trained by next-token prediction, not masking")
    b, n = z.shape
    s = torch.rand(b, n, generator=generator, device=generator.device if generator else z.device).to(z.device)
    if condition == "commit":
        s_star = cutoff(s, mask_count(ratio, n, count_mode).to(z.device))
        return commit_mask(z, z_tilde, ispad, s, s_star, mask_id), commit_kinds(ispad, s, s_star)
    if condition == "latent":
        maskable = ispad.sum(1)
        if z.device.type == "cpu" and (maskable == 0).any():  # on a GPU: a token set's tasks were checked once
            raise ValueError("latent masking needs at least one padding position per example")
        s = torch.where(ispad, s, torch.inf)  # condition positions are never selected
        s_star = cutoff(s, mask_count(ratio, maskable, count_mode).to(z.device))
        return latent_mask(z, ispad, s, s_star, mask_id)
    everything = torch.ones_like(ispad)
    s_star = cutoff(s, mask_count(ratio, n, count_mode).to(z.device))
    return latent_mask(z, everything, s, s_star, mask_id)


def loss_terms(logits: torch.Tensor, z: torch.Tensor, kinds: torch.Tensor, losses: str = "mask+recons+refine",
               label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
    """Cross-entropy split as Eq. 4, plus the training loss of the ``losses`` switch.

    logits [B, N, K], z [B, N] targets, kinds [B, N]. Each term is ``sum_{i in term} CE_i / N``
    averaged over the batch, so refine + mask + recons = the mean CE over all positions (``ce``).
    ``loss`` weights the chosen terms by 1 and normalises per example by their count
    (``sum w CE / (sum w + 1e-8)``), as the official trainer does (``videogvt/trainers/maskgvt_trainer.py``).
    """
    if losses not in LOSS_MODES:
        raise ValueError(f"losses must be one of {tuple(LOSS_MODES)}, got {losses!r}")
    if logits.shape[:2] != z.shape or kinds.shape != z.shape:
        raise ValueError(f"logits {tuple(logits.shape)}, targets {tuple(z.shape)} and kinds "
                         f"{tuple(kinds.shape)} do not match")
    n = z.shape[1]
    ce = F.cross_entropy(logits.flatten(0, 1).float(), z.flatten(), reduction="none",
                         label_smoothing=label_smoothing).view_as(z)  # [B, N]
    terms = {name: (ce * (kinds == kind)).sum(1).div(n).mean() for kind, name in KIND_NAMES.items()
             if kind != GIVEN}
    weights = sum((kinds == kind).float() for kind in LOSS_MODES[losses])
    per_example = (ce * weights).sum(1) / (weights.sum(1) + 1e-8)
    visible = (kinds != GIVEN).float()
    terms["ce"] = ((ce * visible).sum(1) / visible.sum(1).clamp(min=1)).mean()
    terms["loss"] = per_example.mean()
    return terms


def prefix_tokens(z_tilde: torch.Tensor, ispad: torch.Tensor, sep_id: int) -> torch.Tensor:
    """Prefix condition (Tab. 5 baseline): the condition tokens of z~ (not ispad, in raster order)
    followed by SEP. Every example needs the same number of condition tokens -> [B, C + 1]."""
    counts = (~ispad).sum(1)
    if (counts != counts[0]).any():
        raise ValueError("prefix condition needs the same number of condition tokens in every example "
                         f"(got {sorted(set(counts.tolist()))}); train it on one task at a time")
    cond = z_tilde[~ispad].view(z_tilde.shape[0], int(counts[0]))
    sep = torch.full((z_tilde.shape[0], 1), sep_id, dtype=z_tilde.dtype, device=z_tilde.device)
    return torch.cat([cond, sep], dim=1)
