"""Issue 26's dissection of the shared tokenizer by *retention*: one change at a time from the profile's recipe, and
what each does to the proxy evaluator's reading of the reconstructions (not only to PSNR).

Every change trains the tokenizer's own training step (``magvit.tokenizer.train.setup_training``, EMA weights, BN
recalibrated as ``get_tokenizer`` does: the ``full`` stage of ``magvit.experiments.learning_curves``) on the
profile's tokenizer batches, then reconstructs val clips of each benchmark: PSNR, the evaluator's accuracy on real
clips and on reconstructions for the shapes class and the direction, IS (proxy) of both on shapes, their ratios
(issue 26's gate: >= 0.8 on the shapes class and pushbot direction, >= 0.7 on IS (proxy)) and the training seconds.
Run by ``benchmarks/tokenizer_retention_dissection.py`` (minutes per change: not part of a notebook); notebook 03
shows the CSV it writes.
"""


from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd

from magvit import metrics
from magvit.config import Profile
from magvit.experiments import learning_curves
from magvit.infra import results
from magvit.infra.artifacts import git_commit
from magvit.infra.paths import results_dir
from magvit.tokenizer.evaluate import retention

TABLE = "diagnostics/tokenizer_retention_dissection"

# change -> TokenizerConfig overrides of the profile's tokenizer (one change at a time)
CHANGES: dict[str, dict] = {
    "recipe": {},
    "2x temporal compression (8x8x8 tokens)": {"temporal_downsample": (True, False)},
    "64-dim codes": {"embedding_dim": 64},
    "256 codes": {"codebook_size": 256},
    "perceptual term 0.1": {"perceptual_weight": 0.1},
    "GAN from half-way": {"adversarial_start": 0.5},
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
                row = {"change": change, "seed": seed, "steps": steps, "benchmark": bench,
                       "psnr": value[(bench, "psnr")]}
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


def merge(p: Profile, new: pd.DataFrame) -> pd.DataFrame:
    """``new`` merged into the profile's CSV: the (change, seed, steps) it has replace the old ones."""
    new = new.assign(run_commit=git_commit())
    path = results_dir(p.name) / f"{TABLE}.csv"
    if path.exists():
        old = pd.read_csv(path)
        old = old[[c for c in old.columns if c not in results.PROVENANCE]]
        key = ["change", "seed", "steps"]
        done = set(new[key].itertuples(index=False, name=None))
        old = old[[k not in done for k in old[key].itertuples(index=False, name=None)]]
        new = pd.concat([old, new], ignore_index=True)
    measured = [c for c in new.columns if c.startswith(("real_", "recon_")) or c.endswith("_ratio")]
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


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (change, steps): PSNR per benchmark and the gated ratios (shapes class, pushbot direction, shapes IS),
    mean over seeds, with the seed count and the training minutes."""
    wide = table.pivot_table(index=["change", "steps", "seed"], columns="benchmark",
                             values=["psnr", "class_ratio", "direction_ratio", "is_ratio", "seconds"])
    out = pd.DataFrame({
        "psnr shapes": wide[("psnr", "shapes")], "psnr pushbot": wide[("psnr", "pushbot")],
        "psnr scenes": wide[("psnr", "scenes")], "shapes class ratio": wide[("class_ratio", "shapes")],
        "pushbot direction ratio": wide[("direction_ratio", "pushbot")],
        "shapes IS ratio": wide[("is_ratio", "shapes")],
        "minutes": wide[("seconds", "shapes")] / 60})
    grouped = out.groupby(level=["change", "steps"], sort=False)
    return grouped.mean().assign(seeds=grouped.size())
