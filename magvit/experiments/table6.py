"""Table 6 (decoding: COMMIT vs MaskGIT over 2D-/3D-VQ tokens vs AR) and Fig. 3 (COMMIT step by step): claims C7, C9.

The models come from ``magvit.generative.train.get_transformer`` and are evaluated by
``magvit.generative.sample.evaluate``; this module holds what is specific to the experiment: the verdicts of C7 and
C9 (the rules are stated in ``magvit.experiments.claims``) and the Fig. 3 strip.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from magvit.experiments import claims
from magvit.experiments.verdicts import (
    UNPAIRED,
    Estimate,
    Outcome,
    cap_seeds,
    combine,
    compare,
    compare_features,
    with_basis,
)
from magvit.generative.model import MaskedVideoModel
from magvit.generative.tasks import KIND_COLOURS
from magvit.metrics.paired import RowFeatures

ROWS = ("maskgit_2d", "maskgit_3d", "ar_3d", "commit_3d")


def decoding_strip(model: MaskedVideoModel, clip: torch.Tensor, task: str, seed: int = 0,
                   frames: tuple[int, ...] | None = None) -> Figure:
    """Fig. 3 on our data: the COMMIT input tokens (green z~ / grey [MASK] / blue fixed z^) and the
    decoded frames of z^ after each of the K steps of Algorithm 1, for one clip [1, 3, T, H, W]."""
    gen = torch.Generator(device=clip.device).manual_seed(seed)
    result, cond = model.generate(clip, task, generator=gen, keep_history=True)
    t, h, w = model.latent_shape
    frames = frames or tuple(sorted({0, clip.shape[2] // 2, clip.shape[2] - 1}))
    cols = t + len(frames)
    rows = len(result.history) + 2
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.8, rows * 0.8), squeeze=False)
    for step, record in enumerate(result.history):
        opened, pad = record["opened"][0].cpu(), cond.ispad[0].cpu()
        colour = torch.tensor(KIND_COLOURS["recons"]).repeat(opened.shape[0], 1)  # fixed z^: blue
        colour[opened & pad] = torch.tensor(KIND_COLOURS["mask"])
        colour[opened & ~pad] = torch.tensor(KIND_COLOURS["refine"])
        colour = colour.view(t, h, w, 3)
        video = model.decode(record["tokens"][:1])[0]
        panels = [colour[j].numpy() for j in range(t)] + [video[:, f].permute(1, 2, 0).cpu().numpy() for f in frames]
        for ax, panel in zip(axes[step], panels, strict=True):
            ax.imshow(panel, interpolation="nearest")
        axes[step, 0].set_ylabel(f"step {step}", fontsize=7, rotation=0, ha="right", va="center")
    for row, (label, source) in enumerate([("V~", cond.condition_video[0]), ("real", clip[0])], start=rows - 2):
        for ax, f in zip(axes[row, t:], frames, strict=True):
            ax.imshow(source[:, f].permute(1, 2, 0).clamp(0, 1).cpu().numpy(), interpolation="nearest")
        axes[row, t].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
        for ax in axes[row, :t]:
            ax.axis("off")
    for j, ax in enumerate(axes[0]):
        ax.set_title(f"input t'={j}" if j < t else f"frame {frames[j - t]}", fontsize=6)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"COMMIT decoding, {task}: input tokens of each step\n(green z~, grey [MASK], blue fixed z^) "
                 "and the decoded z^ after it", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.1)
    return fig


def not_worse(a: Estimate, b: Estimate, lower_is_better: bool = True, resolvable: bool | None = None) -> str:
    """Verdict for "a is at least as good as b": the three-outcome rule on the difference "a better than b"
    (``verdicts.compare``). No margin of equivalence is claimed, so "at least as good" is shown only when a is
    resolved better, contradicted when b is resolved better, and not testable here otherwise."""
    return compare(a, b, lower_is_better, resolvable).verdict


def decoding_claims(table: pd.DataFrame, setting: str = "", resolvable: bool | None = None,
                    paired: tuple[np.ndarray, Mapping[str, np.ndarray]] | None = None,
                    required_seeds: int = 1) -> pd.DataFrame:
    """Verdicts of C7 and C9 (``magvit.experiments.claims`` schema) from a Table 6 DataFrame with one row per ``key`` in
    {"maskgit_2d", "maskgit_3d", "ar_3d", "commit_3d"} and columns fvd, fvd_low, fvd_high,
    s_per_clip, s_low, s_high, steps (decoding forwards), seq_len.

    C7 = ``verdicts.combine`` of COMMIT beats MaskGIT-3D, COMMIT beats MaskGIT-2D and COMMIT at least as good as AR,
    each by the three-outcome rule on the difference of FVD (proxy) from the rows' own intervals, or, with
    ``paired`` = (real clips' features, generated features per key), on the paired bootstrap of KVD
    (``verdicts.compare_features``). ``resolvable``: the evaluator's resolving power (None: unknown). Each row is one
    training seed: with ``required_seeds`` (the profile's seeds) above one, every part is ``not testable here`` and
    says it rests on one seed (``verdicts.cap_seeds``).
    C9 = the 3D-VQ MaskGIT model generates a clip faster than the 2D-VQ one (per-clip seconds, the interval being the
    spread over batches) with the same transformer and steps, by the same rule; the seconds per clip of a decoding
    depend on its sequence and steps, not on the trained weights, so C9 has no training seeds to count.
    """
    rows = table.set_index("key")
    missing = set(ROWS) - set(rows.index)
    if missing:
        raise ValueError(f"Table 6 rows missing: {sorted(missing)}")

    def fvd(key: str) -> Estimate:
        return Estimate(rows.loc[key, "fvd"], rows.loc[key, "fvd_low"], rows.loc[key, "fvd_high"])

    def seconds(key: str) -> Estimate:
        return Estimate(rows.loc[key, "s_per_clip"], rows.loc[key, "s_low"], rows.loc[key, "s_high"])

    def part(better: str, worse: str) -> Outcome:
        if paired is None:
            return with_basis(compare(fvd(better), fvd(worse), resolvable=resolvable), UNPAIRED)
        real, fakes = paired
        return compare_features(real, RowFeatures.of(fakes[better]), RowFeatures.of(fakes[worse]),
                                resolvable=resolvable)

    names = ["beats MaskGIT-3D", "beats MaskGIT-2D", "at least as good as AR"]
    seeds = 1  # one row per key: one training seed of each model
    parts = [cap_seeds(part("commit_3d", worse), seeds, required_seeds) for worse in ("maskgit_3d", "maskgit_2d",
                                                                                     "ar_3d")]
    steps_ratio = rows.loc["ar_3d", "steps"] / rows.loc["commit_3d", "steps"]
    c7_ours = (f"FVD (proxy) COMMIT {fvd('commit_3d').value:.1f} vs MaskGIT-3D {fvd('maskgit_3d').value:.1f}, "
               f"MaskGIT-2D {fvd('maskgit_2d').value:.1f}, AR {fvd('ar_3d').value:.1f} "
               f"({steps_ratio:.0f}x the steps), one training seed per row; parts: "
               + "; ".join(f"{n}: {p.shown()}" for n, p in zip(names, parts, strict=True)))
    speed = seconds("maskgit_2d").value / seconds("maskgit_3d").value
    c9 = with_basis(compare(seconds("maskgit_3d"), seconds("maskgit_2d")), "seconds per clip, spread over batches")
    c9_ours = (f"{seconds('maskgit_3d').value:.4f} s/clip at {rows.loc['maskgit_3d', 'seq_len']} tokens vs "
               f"{seconds('maskgit_2d').value:.4f} s/clip at {rows.loc['maskgit_2d', 'seq_len']} ({speed:.1f}x faster)")
    return claims.verdict_table([claims.verdict_row("C7", c7_ours, combine(parts, names)),
                                 claims.verdict_row("C9", c9_ours, c9)], setting, benchmark="pushbot")
