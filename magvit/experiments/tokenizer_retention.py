"""The dissection of the shared tokenizer by *retention*: one change at a time from the profile's recipe, and
what each does to the proxy evaluator's reading of the reconstructions (not only to PSNR).

Every change trains the tokenizer's own training step (``magvit.tokenizer.train.setup_training``, EMA weights, BN
recalibrated as ``get_tokenizer`` does: the ``full`` stage of ``magvit.experiments.learning_curves``) on the
profile's tokenizer batches, then reconstructs val clips of each benchmark: PSNR, the evaluator's accuracy on real
clips and on reconstructions for the shapes class and the direction, IS (proxy) of both on shapes, their ratios
(the retention gate: >= 0.8 on the shapes class and pushbot direction, >= 0.7 on IS (proxy)) and the training seconds.
Run by ``benchmarks/tokenizer_retention_dissection.py`` (minutes per change: not part of a notebook); notebook 03
shows the CSV it writes.
"""


from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import torch
import torch.nn.functional as F

from magvit import metrics
from magvit.config import Profile
from magvit.experiments import learning_curves
from magvit.infra import results
from magvit.infra.artifacts import git_commit
from magvit.infra.paths import results_dir
from magvit.tokenizer.evaluate import retention

TABLE = "diagnostics/tokenizer_retention_dissection"

# change -> TokenizerConfig overrides of the profile's tokenizer (one change at a time). The rows are relative to the
# `cpu` recipe of their run_commit: without the perceptual term before 16c6e24, with it (900 steps x 9 clips, fp32)
# from 16c6e24 (the `perceptual term 0.1` rows then were the recipe itself), and from e91dc58 on bf16,
# 1500 steps x 18 clips, no perceptual term (the `bf16, batch 18, no perceptual term` row), and from ef546fc on zero
# padding and the gradient difference term at 0.1, 2200 steps (the `zero padding + gradient difference 0.1` row, whose
# overrides are now the recipe's own). Tried on that recipe and not taken (96 val clips, seed 0, IS (proxy) kept
# against 0.72 / 0.73): gradient difference 0.3 (0.68), EMA 0.99 (0.73), L1 reconstruction (0.62), the GAN for the
# last 16% (0.73), 4096 codes (0.74, 21 min), 2 residual blocks (0.66, 20 min)
CHANGES: dict[str, dict] = {
    "recipe": {},
    "2x temporal compression (8x8x8 tokens)": {"temporal_downsample": (True, False)},
    "64-dim codes": {"embedding_dim": 64},
    "256 codes": {"codebook_size": 256},
    "perceptual term 0.1": {"perceptual_weight": 0.1},
    "GAN from half-way": {"adversarial_start": 0.5},
    # the same 15 minutes spent on more clips: bf16 autocast (0.27 s a step at batch 9 against 0.52 in fp32 on 2
    # cores with AMX) and the frame network's ~0.2 s a step (fp32) dropped, as the gpu recipe that met the gate
    "bf16, batch 18, no perceptual term": {"bf16": True, "batch_size": 18, "perceptual_weight": 0.0},
    # the learning-curve probe of 2e-3 did not beat 1e-3 by more than seed spread in PSNR; read here by retention
    "lr 2e-3": {"lr": 2e-3},
    # the official code's zero padding, done by the convolution itself (no padded copy): a step of 18 clips 0.32 s
    # instead of 0.42 (reflect), so the same minutes see ~1.4x the clips (run at more steps)
    "zero padding (official code)": {"padding": "zeros"},
    # the evaluator is less sure of every reconstructed class, the easy ones too (move_right: entropy 0.86 nats
    # against 0.30 on real clips, still 100% right): what it loses is sharpness, which MSE alone trades away
    "zero padding + gradient difference 0.1": {"padding": "zeros", "gradient_weight": 0.1},
    # the test clips of the run at 1dda48a read IS (proxy) at 0.67 of the real clips' (val: 0.72 / 0.73): a stronger
    # pull towards sharp edges, still on the recipe's zero padding
    "gradient difference 0.3": {"padding": "zeros", "gradient_weight": 0.3},
    # the EMA's horizon (1 / (1 - decay) steps) is 1000 steps at 0.999, the official code's decay for ~37k steps:
    # 45% of a 2200-step run, so the EMA weights average in mid-training weights, trained at the peak learning rate
    "EMA 0.99": {"padding": "zeros", "gradient_weight": 0.1, "ema_decay": 0.99},
    # taming's VQGAN reconstructs with L1: the median under uncertainty keeps an edge where the mean (L2) smears it
    "L1 reconstruction": {"padding": "zeros", "gradient_weight": 0.1, "recon_loss": "l1"},
    # the paper's GAN, only at the end (its step costs 2.5-3.4x): run at 1900 steps, the last 16% (~300) with the
    # discriminator and lazy R1, so the whole stays within 15 minutes; EMA 0.99 so that the evaluated weights are
    # those of the GAN phase (at 0.999 three quarters of their weight would be from before it)
    "GAN for the last 16%": {"padding": "zeros", "gradient_weight": 0.1, "adversarial_start": 0.84, "r1_every": 4,
                             "ema_decay": 0.99},
    # the code is the bottleneck? The 1024 codes are all in use (perplexity 743 on shapes test clips): 4096 codes
    # carry 12 bits a token instead of 10
    "4096 codes": {"padding": "zeros", "gradient_weight": 0.1, "codebook_size": 4096},
    # the paper's R = 2 residual blocks a level (the small profiles' 1): capacity rather than clips
    "2 residual blocks (paper)": {"padding": "zeros", "gradient_weight": 0.1, "num_res_blocks": 2},
}


def dissect(p: Profile, changes: list[str], seeds: list[int], steps: int, clips_per_benchmark: int) -> pd.DataFrame:
    """Train every (change, seed) for ``steps`` steps; one row per (change, seed, benchmark)."""
    unknown = [c for c in changes if c not in CHANGES]
    if unknown:
        raise ValueError(f"unknown change(s) {unknown}; changes are: {list(CHANGES)}")
    clips = learning_curves.held_out(p, clips_per_benchmark)
    evaluator = metrics.get_evaluator(p)
    real = retention(evaluator, clips, lambda v: v).set_index(["benchmark", "head"])["real_accuracy"]
    rows = []
    for change in changes:
        for seed in seeds:
            cfg = replace(p.tokenizer, **CHANGES[change])
            t0 = time.perf_counter()
            long = pd.DataFrame(learning_curves.train_row(p, "full", cfg, seed, steps, steps, clips, change,
                                                          evaluator))
            seconds = time.perf_counter() - t0
            value = long.set_index(["benchmark", "metric"])["value"]
            for bench in clips:
                row = {"change": change, "seed": seed, "steps": steps, "evaluator_augment": p.evaluator.augment,
                       "evaluator_steps": p.evaluator.steps, "benchmark": bench, "psnr": value[(bench, "psnr")]}
                for head, metric, name in (("label", "label_accuracy", "class"),
                                           ("direction", "direction_accuracy", "direction"),
                                           ("is_proxy", "is_proxy", "is")):
                    if (bench, metric) in value.index:
                        row[f"real_{name}"] = real[(bench, head)]
                        row[f"recon_{name}"] = value[(bench, metric)]
                        row[f"{name}_ratio"] = (value[(bench, metric)] / real[(bench, head)]
                                                if real[(bench, head)] > 0 else float("nan"))
                row["seconds"] = seconds
                rows.append(row)
    return pd.DataFrame(rows)


REFERENCES_TABLE = "diagnostics/tokenizer_retention_references"
# the ideal codes of the dissection: each supervoxel's mean colour at these (t, h, w) compressions (trilinear back to
# full size), what a token grid of that shape keeps at best without a learned decoder
REFERENCE_BLOCKS = ((4, 4, 4), (4, 1, 1), (2, 4, 4), (1, 4, 4), (2, 2, 2))


def block_mean(video: torch.Tensor, block: tuple[int, int, int]) -> torch.Tensor:
    """Each ``block`` = (t, h, w) supervoxel's mean colour, trilinear back to the clip's size."""
    return F.interpolate(F.avg_pool3d(video, block), size=video.shape[2:], mode="trilinear", align_corners=False)


def references(p: Profile, clips_per_benchmark: int, seed: int = 0) -> pd.DataFrame:
    """Retention of ideal codes (``REFERENCE_BLOCKS``), of each clip's mean colour and of a 1-pixel blur on val
    clips, read by the profile's evaluator: long rows (reference, benchmark, head, real, recon, ratio, psnr)."""
    clips = learning_curves.held_out(p, clips_per_benchmark, seed)
    evaluator = metrics.get_evaluator(p)
    candidates = {f"block mean {t}x{h}x{w}": (lambda v, b=(t, h, w): block_mean(v, b)) for t, h, w in REFERENCE_BLOCKS}
    candidates["clip mean colour"] = lambda v: v.mean((2, 3, 4), keepdim=True).expand_as(v).clone()
    candidates["blur 1 px"] = lambda v: metrics.proxy.blur(v, 1.0)
    rows = []
    for name, fn in candidates.items():
        recons = {bench: fn(item.video) for bench, item in clips.items()}
        table = retention(evaluator, clips, recons=recons)
        for r in table.itertuples():
            rows.append({"reference": name, "benchmark": r.benchmark, "head": r.head, "real": r.real_accuracy,
                         "recon": r.recon_accuracy, "ratio": r.recon_accuracy / r.real_accuracy if r.real_accuracy
                         else float("nan"), "psnr": metrics.psnr(clips[r.benchmark].video, recons[r.benchmark]),
                         "clips": r.clips, "evaluator_augment": p.evaluator.augment})
    table = pd.DataFrame(rows).assign(run_commit=git_commit())
    results.write_table(results.blank_missing(table, ["ratio"]), REFERENCES_TABLE, profile=p.name, seeds=seed,
                        device=p.device)
    return table


def merge(p: Profile, new: pd.DataFrame) -> pd.DataFrame:
    """``new`` merged into the profile's CSV: the (change, seed, steps, evaluator) it has replace the old ones."""
    new = new.assign(run_commit=git_commit())
    path = results_dir(p.name) / f"{TABLE}.csv"
    if path.exists():
        old = pd.read_csv(path)
        old = old[[c for c in old.columns if c not in results.PROVENANCE]]
        # the evaluator that read the row: a row of another evaluator (its augment and training steps; blank in rows
        # written before the column existed, at the commit in run_commit) is kept beside the same change read by this
        key = ["change", "seed", "steps", "evaluator_augment", "evaluator_steps"]
        for column in ("evaluator_augment", "evaluator_steps"):
            if column not in old:
                old = old.assign(**{column: float("nan")})
        done = set(new[key].itertuples(index=False, name=None))
        old = old[[k not in done for k in old[key].itertuples(index=False, name=None)]]
        new = pd.concat([old, new], ignore_index=True)
    measured = [c for c in new.columns if c.startswith(("real_", "recon_")) or c.endswith("_ratio")
                or c in ("evaluator_augment", "evaluator_steps")]
    results.write_table(results.blank_missing(new, measured), TABLE, profile=p.name, seeds=sorted(set(new["seed"])),
                        device=p.device)
    return new


def read(profile: str) -> pd.DataFrame | None:
    """The dissection table of ``profile``, or None where the benchmark script has not run at it."""
    path = results_dir(profile) / f"{TABLE}.csv"
    if not path.exists():
        return None
    table = pd.read_csv(path)
    return table[[c for c in table.columns if c not in results.PROVENANCE]]


def read_references(profile: str) -> pd.DataFrame | None:
    """The ideal-code references of ``profile`` (``references``) as reference x (benchmark, head) ratios, or None
    where the benchmark script has not written them."""
    path = results_dir(profile) / f"{REFERENCES_TABLE}.csv"
    if not path.exists():
        return None
    table = pd.read_csv(path)
    return table.pivot_table(index="reference", columns=["benchmark", "head"], values="ratio", sort=False)


def summary(table: pd.DataFrame, evaluator_steps: int) -> pd.DataFrame:
    """Per (change, steps): PSNR per benchmark and the gated ratios (shapes class, pushbot direction, shapes IS),
    mean over seeds, with the seed count and the training minutes; a change read by the evaluator trained on clean
    clips only (before ``EvaluatorConfig.augment``) is named so, and so is one read by an evaluator trained for other
    than ``evaluator_steps`` steps (the profile's; rows written before the column: "earlier evaluator", the one of
    their run_commit), so that a mean over seeds never mixes two evaluators' readings."""
    augment = pd.to_numeric(table.get("evaluator_augment", pd.Series(0.0, index=table.index)), errors="coerce")
    clean = augment.fillna(0.0).to_numpy() <= 0  # rows read by the evaluator trained on clean clips only
    table = table.assign(change=table.change.where(~clean, table.change + " [evaluator on clean clips]"))
    trained = pd.to_numeric(table.get("evaluator_steps", pd.Series(float("nan"), index=table.index)), errors="coerce")
    label = trained.map(lambda n: " [earlier evaluator]" if pd.isna(n) else f" [evaluator {int(n)} steps]")
    table = table.assign(change=table.change.where(trained == evaluator_steps, table.change + label))
    wide = table.pivot_table(index=["change", "steps", "seed"], columns="benchmark",
                             values=["psnr", "class_ratio", "direction_ratio", "is_ratio", "seconds"], dropna=False)

    def column(value: str, bench: str) -> pd.Series:  # NaN where no row measured it (e.g. a real accuracy of 0)
        return wide[(value, bench)] if (value, bench) in wide.columns else pd.Series(float("nan"), index=wide.index)

    out = pd.DataFrame({
        "psnr shapes": column("psnr", "shapes"), "psnr pushbot": column("psnr", "pushbot"),
        "psnr scenes": column("psnr", "scenes"), "shapes class ratio": column("class_ratio", "shapes"),
        "pushbot direction ratio": column("direction_ratio", "pushbot"),
        "shapes IS ratio": column("is_ratio", "shapes"), "minutes": column("seconds", "shapes") / 60})
    out = out[out.notna().any(axis=1)]  # the pivot's (change, steps, seed) combinations that never ran
    grouped = out.groupby(level=["change", "steps"], sort=False)
    return grouped.mean().assign(seeds=grouped.size())
