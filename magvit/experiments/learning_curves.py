"""Learning curves of the tokenizer at a profile's widths: what makes the MAGVIT 3D-VQ learn, one change at a time.

Run by ``benchmarks/tokenizer_learning_curves.py`` (minutes to an hour: not part of a notebook); notebook 03
plots the CSV it writes. Every row trains one variant on the profile's tokenizer batches (``tokenizer_batch``: the
equal mix of pushbot, shapes and scenes) and, every ``--every`` steps, reconstructs held-out clips of the **val** split
(the design is chosen on val; notebook 03 reports on test): PSNR per benchmark, the error of each clip's mean
colour, and for quantised rows the codebook perplexity, next to three reference reconstructions of the same
clips (training-mean colour, each clip's mean colour, the supervoxel mean on the token grid). Stages:

- ``ae``: encoder + decoder with a continuous latent, reconstruction MSE only (can the network learn at all?);
- ``vq``: + the quantiser and its losses (commitment, codebook, entropy), no GAN;
- ``full``: the tokenizer's own training step (``magvit.tokenizer.train.setup_training``: + GAN, R1, LeCam, EMA),
  evaluated on its EMA weights, as every later notebook uses them.

Rows are :class:`~magvit.config.TokenizerConfig` overrides of the paper's design at the profile's widths
(``paper_design``), so every adaptation is the config field a profile sets. Results go to
``<results>/diagnostics/tokenizer_learning_curves.csv``; a rerun of some rows replaces those rows (same row name,
seed and run length ``train_steps``) and keeps the others. At ``cpu`` one row of 300 ``ae``/``vq`` steps takes
~10 min on one thread of a 2-core Xeon (``full``: ~15 min): run two rows at once with ``--threads 1`` each, never
more processes than cores.
"""

from __future__ import annotations

import copy
import time
from dataclasses import replace

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm  # tqdm.write keeps its lines clear of a live bar

from magvit import data, metrics
from magvit.config import Profile, TokenizerConfig
from magvit.infra import results
from magvit.infra.artifacts import git_commit
from magvit.infra.paths import results_dir
from magvit.infra.progress import progress
from magvit.infra.train import compound_lr, deterministic, set_lr
from magvit.tokenizer.evaluate import (
    LabelledClips,
    codebook_usage,
    labelled_clips,
    reference_reconstructions,
    retention,
)
from magvit.tokenizer.model import build_tokenizer
from magvit.tokenizer.train import ema_update, recalibrate_batch_norm, setup_training, tokenizer_batch

TABLE = "diagnostics/tokenizer_learning_curves"

# The vq recipe the rows below build on (batch norm, [-1, 1], restarts, 1024 codes, no entropy term, beta1 0.9)
_RECIPE = {"norm": "batch", "zero_centre": True, "codebook_restart_after": 20, "codebook_size": 1024,
           "entropy_weight": 0.0, "beta1": 0.9}
_RECIPE_NAME = "batch norm, zero-centred, code restarts, 1024 codes, no entropy loss, Adam beta1 0.9"

# name -> (stage, TokenizerConfig overrides). The first row of each stage is the paper's design at the profile's
# widths; the others change one thing at a time (or add one to the row above), as notebook 03 shows them.
ROWS: dict[str, tuple[str, dict]] = {
    "ae: plain 3-layer conv autoencoder": ("plain", {}),
    "ae: paper design": ("ae", {}),
    "ae: no output norm": ("ae", {"output_norm": False}),
    "ae: no output norm, no latent norm": ("ae", {"output_norm": False, "latent_norm": False}),
    "ae: no output norm, zero-centred": ("ae", {"output_norm": False, "zero_centre": True}),
    "ae: no output/latent norm, zero-centred": ("ae", {"output_norm": False, "latent_norm": False,
                                                       "zero_centre": True}),
    "ae: batch norm": ("ae", {"norm": "batch"}),
    "ae: batch norm, zero-centred": ("ae", {"norm": "batch", "zero_centre": True}),
    "ae: zero-centred": ("ae", {"zero_centre": True}),
    "ae: batch norm, zero-centred, Adam beta1 0.9": ("ae", {"norm": "batch", "zero_centre": True, "beta1": 0.9}),
    "ae: batch norm, zero-centred, lr 2e-3": ("ae", {"norm": "batch", "zero_centre": True, "lr": 2e-3}),
    "vq: paper design": ("vq", {}),
    "vq: batch norm, zero-centred": ("vq", {"norm": "batch", "zero_centre": True}),
    "vq: batch norm, zero-centred, code restarts": ("vq", {"norm": "batch", "zero_centre": True,
                                                           "codebook_restart_after": 20}),
    "vq: batch norm, zero-centred, code restarts, 1024 codes": ("vq", {"norm": "batch", "zero_centre": True,
                                                                      "codebook_restart_after": 20,
                                                                      "codebook_size": 1024}),
    "vq: batch norm, zero-centred, code restarts, 1024 codes, no entropy loss": (
        "vq", {"norm": "batch", "zero_centre": True, "codebook_restart_after": 20, "codebook_size": 1024,
               "entropy_weight": 0.0}),
    f"vq: {_RECIPE_NAME}": ("vq", _RECIPE),
    f"vq: {_RECIPE_NAME}, lr 2e-3": ("vq", {**_RECIPE, "lr": 2e-3}),
    f"vq: {_RECIPE_NAME}, lr 5e-4": ("vq", {**_RECIPE, "lr": 5e-4}),
    f"vq: {_RECIPE_NAME}, BN recalibrated": ("vq", {**_RECIPE, "bn_recalibration_batches": 16}),
    f"vq: {_RECIPE_NAME}, 2 res blocks": ("vq", {**_RECIPE, "num_res_blocks": 2}),
    f"vq: {_RECIPE_NAME}, batch 18": ("vq", {**_RECIPE, "batch_size": 18}),
    f"vq: {_RECIPE_NAME}, zero-init residual": ("vq", {**_RECIPE, "zero_init_residual": True}),
    f"vq: {_RECIPE_NAME}, 64-dim codes": ("vq", {**_RECIPE, "embedding_dim": 64}),
    f"vq: {_RECIPE_NAME}, 128-dim codes": ("vq", {**_RECIPE, "embedding_dim": 128}),
    f"vq: {_RECIPE_NAME}, BN recalibrated, 128-dim codes": ("vq", {**_RECIPE, "bn_recalibration_batches": 16,
                                                                   "embedding_dim": 128}),
    "full: paper design": ("full", {}),
    f"full: {_RECIPE_NAME.replace('beta1 0.9', 'beta1 0.9 for G and D')}, GAN from half-way": (
        "full", {**_RECIPE, "discriminator_beta1": 0.9, "adversarial_start": 0.5}),
    f"full: {_RECIPE_NAME.replace('beta1 0.9', 'beta1 0.9 for G')}, GAN from half-way": (
        "full", {**_RECIPE, "adversarial_start": 0.5}),
    "full: batch norm, zero-centred, code restarts": ("full", {"norm": "batch", "zero_centre": True,
                                                               "codebook_restart_after": 20}),
}

# The fields of the tokenizer's design (not of its budget) a row or profile may change
DESIGN_FIELDS = ("norm", "output_norm", "latent_norm", "zero_centre", "codebook_restart_after", "entropy_weight",
                 "beta1", "discriminator_beta1", "adversarial_start", "zero_init_residual", "bn_recalibration_batches")
# Every row starts from the paper's design at the profile's widths with 256 codes of 32 dimensions (the cpu profile's
# codebook when the curves were first run); rows that say "1024 codes" or "N-dim codes" set them.
CURVE_CODEBOOK = 256
CURVE_EMBEDDING_DIM = 32

# The design fields a profile may change from the paper's tokenizer, with the paper's / official code's value and
# why a profile changes it (the evidence: the learning curves above).
ADAPTATIONS: dict[str, tuple[object, str]] = {
    "norm": ("group", "GroupNorm normalises every clip on its own and strips its colour, which is most of the "
                      "stand-ins' pixel variance; batch statistics keep it"),
    "output_norm": (True, "the decoder's last GroupNorm removes each clip's per-channel mean from the only path "
                          "to the output"),
    "latent_norm": (True, "the same at the encoder's output"),
    "zero_centre": (False, "with [0, 1] input and no output activation the network starts far from the data's "
                           "mean; [-1, 1] as in VQGAN"),
    "codebook_restart_after": (0, "data-initialised codes and restarts of dead codes keep the codebook in use in "
                                  "a few hundred steps"),
    "entropy_weight": (0.1, "with restarts keeping the codes in use, the entropy term cost about 1 dB in 300 steps"),
    "beta1": (0.0, "the generator's Adam momentum: the largest single gain in a few hundred steps (the discriminator "
                   "keeps the paper's 0: at 0.9 the GAN cost ~2 dB)"),
    "adversarial_start": (0.0, "1 = no GAN: started half-way (as taming's VQGAN disc_start), the GAN cost 1.4-2.4 dB "
                               "of held-out PSNR by step 900 (discriminator beta1 0 or 0.9), and a step without it "
                               "costs 55% of one with it"),
    "bn_recalibration_batches": (0, "BatchNorm's running statistics come from the training weights, not the EMA's; "
                                    "recomputed for the EMA on 16 further training batches (SWA's update_bn): "
                                    "+0.2 / +0.3 / 0.0 dB on the 900-step tokenizer (GroupNorm keeps no statistics)"),
    "lr": (1e-4, "hundreds of steps instead of tens of thousands"),
    "perceptual_weight": (0.1, "the frame-network stand-in (fp32) adds 0.35 s to a 0.47 s bf16 step (+75%), for a "
                               "retention gain within seed spread; the minutes go to clips instead"),
    "padding": ("reflect", "the official code's zeros, done by the convolution itself: 0.35 s a step instead of "
                           "0.42, so 2200 steps fit the minutes of 1500 (Table 7's MAGVIT models keep reflect)"),
    "gradient_weight": (0.0, "not in the paper: Mathieu et al.'s gradient difference loss against the blur that "
                             "made the evaluator unsure of every reconstructed class (IS (proxy) kept 0.67 -> 0.72)"),
}


# The row of the shared tokenizer's recipe (``magvit.profiles.SCALE_ADAPTATIONS``; the curves' cpu run: 900 x 9 clips,
# fp32)
RECIPE_ROW = f"vq: {_RECIPE_NAME}, BN recalibrated, 128-dim codes"

# The rows notebook 03 shows (the benchmark script ran them at cpu; at smoke the notebook runs them itself).
NOTEBOOK_ROWS = [
    "ae: plain 3-layer conv autoencoder",
    "ae: paper design",
    "ae: zero-centred",
    "ae: no output/latent norm, zero-centred",
    "ae: batch norm",
    "ae: batch norm, zero-centred",
    "vq: batch norm, zero-centred, code restarts",
    "vq: batch norm, zero-centred, code restarts, 1024 codes",
    "vq: batch norm, zero-centred, code restarts, 1024 codes, no entropy loss",
    "vq: batch norm, zero-centred, code restarts, 1024 codes, no entropy loss, Adam beta1 0.9",
    "vq: batch norm, zero-centred, code restarts, 1024 codes, no entropy loss, Adam beta1 0.9, BN recalibrated",
    RECIPE_ROW,
    "full: batch norm, zero-centred, code restarts",
    "full: batch norm, zero-centred, code restarts, 1024 codes, no entropy loss, Adam beta1 0.9 for G and D, GAN "
    "from half-way",
    "full: batch norm, zero-centred, code restarts, 1024 codes, no entropy loss, Adam beta1 0.9 for G, GAN from "
    "half-way",
]


def plain_autoencoder(dim: int) -> nn.Module:
    """The reference network: 3 convolutions down (two 2x average pools), 3 up (two nearest 2x upsamplings), no
    normalisation, no residual blocks; 4x4x4 compression like the cpu tokenizer, continuous latent."""
    return nn.Sequential(
        nn.Conv3d(3, 32, 3, padding=1), nn.SiLU(), nn.AvgPool3d(2), nn.Conv3d(32, 64, 3, padding=1), nn.SiLU(),
        nn.AvgPool3d(2), nn.Conv3d(64, dim, 1),
        nn.Conv3d(dim, 64, 3, padding=1), nn.SiLU(), nn.Upsample(scale_factor=2), nn.Conv3d(64, 32, 3, padding=1),
        nn.SiLU(), nn.Upsample(scale_factor=2), nn.Conv3d(32, 3, 3, padding=1))


def without_adaptations(cfg: TokenizerConfig) -> TokenizerConfig:
    """``cfg`` with every design field (``DESIGN_FIELDS``) reset to the paper's value; widths, codebook, steps and
    lr kept."""
    paper = TokenizerConfig()
    return replace(cfg, **{f: getattr(paper, f) for f in DESIGN_FIELDS})


def paper_design(cfg: TokenizerConfig) -> TokenizerConfig:
    """``without_adaptations(cfg)`` with ``CURVE_CODEBOOK`` codes of ``CURVE_EMBEDDING_DIM``: what a row's overrides
    apply to, whatever the profile's own tokenizer adapts."""
    return replace(without_adaptations(cfg), codebook_size=CURVE_CODEBOOK, embedding_dim=CURVE_EMBEDDING_DIM)


def held_out(p: Profile, clips_per_benchmark: int, seed: int = 0) -> dict[str, LabelledClips]:
    """Clips of the val split per benchmark with their labels (never seen in training, never the test clips of
    notebook 03)."""
    return labelled_clips(p.data, clips_per_benchmark, "val", seed)


def long_rows(keys: dict, benchmark: str, values: dict[str, float]) -> list[dict]:
    """One row per metric (long format: a continuous row has no perplexity, and no column holds NaN)."""
    return [{**keys, "benchmark": benchmark, "metric": k, "value": float(v)} for k, v in values.items()]


def colour_error(video: torch.Tensor, recon: torch.Tensor) -> float:
    """Mean squared error of each clip's mean colour (what per-clip normalisation can strip)."""
    return float((recon.mean((2, 3, 4)) - video.mean((2, 3, 4))).pow(2).mean())


def retention_rows(keys: dict, table: pd.DataFrame, column: str) -> list[dict]:
    """Long rows ``<head>_accuracy`` (``is_proxy`` for IS (proxy)) per benchmark from a retention table's
    ``column`` (``recon_accuracy`` for a row, ``real_accuracy`` for the real-clips reference)."""
    rows = []
    for r in table.itertuples():
        metric = "is_proxy" if r.head == "is_proxy" else f"{r.head}_accuracy"
        rows += long_rows(keys, r.benchmark, {metric: getattr(r, column)})
    return rows


@torch.no_grad()
def evaluate(reconstruct_fn, clips: dict[str, LabelledClips], keys: dict,
             evaluator: metrics.ProxyEvaluator | None = None) -> list[dict]:
    """PSNR and clip-colour error per benchmark of ``reconstruct_fn(video) -> (recon, ids or None)``, the
    codebook perplexity over all clips for quantised rows, and with an ``evaluator`` the accuracy of each of its
    heads (and IS (proxy) on shapes) on the reconstructions (retention, read against the reference row
    "reference: real clips")."""
    rows, all_ids, recons = [], [], {}
    for name, item in clips.items():
        video = item.video
        recon, ids = reconstruct_fn(video)
        recon = recons[name] = recon.clamp(0, 1).to(video.device)
        rows += long_rows(keys, name, {"psnr": metrics.psnr(video, recon), "colour_error": colour_error(video, recon)})
        if ids is not None:
            all_ids.append(ids)
    if evaluator is not None:
        rows += retention_rows(keys, retention(evaluator, clips, recons=recons), "recon_accuracy")
    if all_ids:
        ids = torch.cat(all_ids)
        rows += long_rows(keys, "all", {"perplexity": codebook_usage(ids, int(ids.max()) + 1)["perplexity"]})
    return rows


def references(p: Profile, clips: dict[str, LabelledClips], block: tuple[int, int, int],
               evaluator: metrics.ProxyEvaluator | None = None) -> list[dict]:
    """The three trivial reconstructions on the same clips (step 0 rows named "reference: ..."); with an
    ``evaluator``, their retention too and the real clips' accuracies (row "reference: real clips")."""
    train = torch.cat([tokenizer_batch(p.tokenizer, i, p.data.num_frames, p.data.resolution, 0) for i in range(8)])
    rows, by_ref = [], {}
    for name, item in clips.items():
        for ref, recon in reference_reconstructions(item.video, train.mean((0, 2, 3, 4)), block).items():
            keys = {"row": f"reference: {ref}", "stage": "reference", "seed": 0, "train_steps": 0, "step": 0}
            rows += long_rows(keys, name, {"psnr": metrics.psnr(item.video, recon),
                                           "colour_error": colour_error(item.video, recon)})
            by_ref.setdefault(ref, {})[name] = recon
    if evaluator is not None:
        for ref, recons in by_ref.items():
            keys = {"row": f"reference: {ref}", "stage": "reference", "seed": 0, "train_steps": 0, "step": 0}
            table = retention(evaluator, clips, recons=recons)
            rows += retention_rows(keys, table, "recon_accuracy")
        keys = {"row": "reference: real clips", "stage": "reference", "seed": 0, "train_steps": 0, "step": 0}
        rows += retention_rows(keys, table, "real_accuracy")
    return rows


def continuous_reconstruction(tokenizer: nn.Module, video: torch.Tensor) -> torch.Tensor:
    """The ``ae`` stage: encoder -> decoder with the quantiser skipped (continuous latent)."""
    return tokenizer.from_output(tokenizer.decoder(tokenizer.encoder(tokenizer.to_input(video))))


def train_row(p: Profile, stage: str, cfg: TokenizerConfig, seed: int, steps: int, every: int,
              clips: dict[str, LabelledClips], label: str, evaluator: metrics.ProxyEvaluator | None = None
              ) -> list[dict]:
    """Train one row for ``steps`` steps and evaluate it every ``every`` steps (with ``evaluator``: retention
    too)."""
    cfg = replace(cfg, steps=steps)
    dev = p.device
    deterministic()
    if stage == "full":
        modules, _, train_step = setup_training(p, cfg, seed)
        evaluated = modules["ema"]
    elif stage in ("ae", "vq", "plain"):
        torch.manual_seed(seed)
        net = (plain_autoencoder(cfg.embedding_dim) if stage == "plain" else build_tokenizer(cfg, p.data)).to(dev)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        evaluated = copy.deepcopy(net).requires_grad_(False)  # the EMA, as the real training keeps it

        def train_step(real: torch.Tensor, step: int) -> dict[str, float]:
            set_lr(opt, compound_lr(step, cfg.lr, cfg.warmup_steps, cfg.steps))
            if stage == "plain":
                recon, q_losses = net(real), {}
            elif stage == "ae":  # continuous latent: the quantiser is skipped
                recon, q_losses = continuous_reconstruction(net, real), {}
            else:
                recon, _, q_losses = net(real)
            loss = F.mse_loss(recon, real) + sum(q_losses.values())
            opt.zero_grad()
            loss.backward()
            opt.step()
            ema_update(evaluated, net, cfg.ema_decay, step)
            return {"loss": loss.item()}
    else:
        raise ValueError(f"unknown stage {stage!r}; choose from plain, ae, vq, full")

    def evaluation_model() -> nn.Module:
        """The EMA in eval mode; with ``bn_recalibration_batches``, a copy with its own BatchNorm statistics, as
        ``get_tokenizer`` finishes (from the clips after the run's last step, which it never trains on)."""
        evaluated.eval()
        if not cfg.bn_recalibration_batches or stage in ("plain", "ae"):
            return evaluated
        model = copy.deepcopy(evaluated)
        recalibrate_batch_norm(model, (tokenizer_batch(cfg, cfg.steps + i, p.data.num_frames, p.data.resolution,
                                                       seed).to(dev) for i in range(cfg.bn_recalibration_batches)))
        return model

    def reconstruct_with(model: nn.Module):
        def reconstruct_fn(video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
            video = video.to(dev)
            if stage == "plain":
                return model(video), None
            if stage == "ae":
                return continuous_reconstruction(model, video), None
            ids = model.encode(video)
            return model.decode(ids), ids
        return reconstruct_fn

    rows, t0 = [], time.perf_counter()
    for step in progress(range(steps), desc=label, mininterval=10):
        real = tokenizer_batch(cfg, step, p.data.num_frames, p.data.resolution, seed).to(dev)
        logs = train_step(real, step)
        if (step + 1) % every == 0 or step + 1 == steps:
            keys = {"row": label, "stage": stage, "seed": seed, "train_steps": steps, "step": step + 1}
            evaluated_rows = evaluate(reconstruct_with(evaluation_model()), clips, keys, evaluator)
            rows += evaluated_rows + long_rows(keys, "all", {
                "train_loss": logs["loss"], "s_per_step": (time.perf_counter() - t0) / (step + 1)})
            tqdm.write(f"{label} seed {seed} step {step + 1}: " + ", ".join(
                f"{r['benchmark']} {r['value']:.2f} dB" for r in evaluated_rows if r["metric"] == "psnr"))
    return rows


def run(p: Profile, rows: list[str], seeds: list[int], steps: int, every: int, clips_per_benchmark: int = 24,
        with_retention: bool = True) -> pd.DataFrame:
    """Train and evaluate ``rows`` x ``seeds``; merge them into the profile's CSV (other rows kept); return it.

    ``with_retention``: every evaluation also reports the proxy evaluator's accuracies on the reconstructions (the
    profile's evaluator, trained or loaded from the cache)."""
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        raise ValueError(f"unknown learning-curve row(s) {unknown}; rows are: {list(ROWS)}")
    clips = held_out(p, clips_per_benchmark)
    evaluator = metrics.get_evaluator(p) if with_retention else None
    new = references(p, clips, build_tokenizer(p.tokenizer, p.data).compression, evaluator)
    for name in rows:
        stage, overrides = ROWS[name]
        for seed in seeds:
            new += train_row(p, stage, replace(paper_design(p.tokenizer), **overrides), seed, steps, every, clips,
                             name, evaluator)
    table = pd.DataFrame(new)
    table["run_commit"] = git_commit()  # rows of earlier runs keep theirs
    path = results_dir(p.name) / f"{TABLE}.csv"
    if path.exists():  # keep the rows this run did not retrain
        old = with_train_steps(pd.read_csv(path))
        old = old[[c for c in old.columns if c not in results.PROVENANCE]]
        run_key = ["row", "seed", "train_steps"]  # a row run to another length is another curve
        done = set(table[run_key].itertuples(index=False, name=None))
        old = old[[k not in done for k in old[run_key].itertuples(index=False, name=None)]]
        table = pd.concat([old, table], ignore_index=True)
    results.write_table(table, TABLE, profile=p.name, seeds=sorted(set(table["seed"])), device=p.device)
    return table


def read(profile: str) -> pd.DataFrame:
    """The learning-curve table of ``profile`` (written by ``run``)."""
    path = results_dir(profile) / f"{TABLE}.csv"
    if not path.exists():
        raise FileNotFoundError(f"no learning curves at {path}; run benchmarks/tokenizer_learning_curves.py "
                                f"--profile {profile} first")
    return with_train_steps(pd.read_csv(path))


def with_train_steps(table: pd.DataFrame) -> pd.DataFrame:
    """Fill ``train_steps`` (each run's length: its schedule's horizon) for rows written before the column existed:
    their last evaluated step."""
    if "train_steps" not in table:
        table = table.assign(train_steps=table.groupby(["row", "seed"])["step"].transform("max"))
    return table.assign(train_steps=table["train_steps"].fillna(
        table.groupby(["row", "seed"])["step"].transform("max")).astype(int))


def plot(table: pd.DataFrame, rows: list[str] | None = None, metric: str = "psnr", profile: str = ""):
    """One panel per benchmark: ``metric`` vs training step per row (mean over seeds, the seeds' range shaded),
    the reference reconstructions as horizontal lines."""
    table = with_train_steps(table)
    data_rows = table[(table.metric == metric) & (table.stage != "reference")]
    refs = table[(table.metric == metric) & (table.stage == "reference")]
    rows = rows or list(dict.fromkeys(data_rows["row"]))
    benchmarks = [b for b in data.BENCHMARKS if b in set(data_rows["benchmark"])]
    fig, axes = plt.subplots(1, len(benchmarks), figsize=(4.2 * len(benchmarks), 3.4), sharex=True)
    for ax, bench in zip(axes, benchmarks, strict=True):
        for row in rows:
            runs = data_rows[(data_rows.row == row) & (data_rows.benchmark == bench)]
            for train_steps, sel in runs.groupby("train_steps"):  # one curve per run length
                stats = sel.groupby("step")["value"].agg(["mean", "min", "max"])
                label = row if runs.train_steps.nunique() == 1 else f"{row} ({train_steps} steps)"
                line, = ax.plot(stats.index, stats["mean"], marker=".", label=label)
                if sel.seed.nunique() > 1:
                    ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.2)
        for (ref, sel), style in zip(refs[refs.benchmark == bench].groupby("row", sort=False), [":", "--", "-."],
                                     strict=False):
            ax.axhline(sel["value"].mean(), color="grey", linestyle=style, linewidth=1,
                       label=ref.removeprefix("reference: "))
        ax.set_title(bench)
        ax.set_xlabel("training step")
        ax.set_ylabel(f"held-out {metric}" + (" (dB)" if metric == "psnr" else ""))
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"tokenizer learning curves (val clips){f' [{profile}]' if profile else ''}")
    fig.tight_layout()
    return fig


def load_or_run(p: Profile, rows: list[str], seeds: list[int] | None = None, every: int | None = None,
                ) -> pd.DataFrame:
    """The profile's learning curves for ``rows``: read from its CSV, training only the rows (and seeds) it lacks,
    for ``p.tokenizer_curve_steps`` steps (at ``cpu`` the benchmark script's committed CSV has them all)."""
    seeds = seeds or [0]
    path = results_dir(p.name) / f"{TABLE}.csv"
    have = set(zip(*(pd.read_csv(path)[["row", "seed"]].T.values), strict=True)) if path.exists() else set()
    missing = [r for r in rows if any((r, s) not in have for s in seeds)]
    if missing:
        steps = p.tokenizer_curve_steps
        run(p, missing, seeds, steps, every or max(1, steps // 3))
    table = read(p.name)
    return table[table.row.isin(rows) | (table.stage == "reference")]


def adaptations(cfg: TokenizerConfig) -> pd.DataFrame:
    """The fields where ``cfg`` departs from the paper's tokenizer design: field, paper value, this profile, why."""
    rows = [{"field": f, "paper / code": paper, "this profile": getattr(cfg, f), "why": why}
            for f, (paper, why) in ADAPTATIONS.items() if getattr(cfg, f) != paper]
    return pd.DataFrame(rows, columns=["field", "paper / code", "this profile", "why"])


def bar(tokenizer_psnr: dict[str, float], block_mean_psnr: dict[str, float], margin_db: float = 1.0) -> pd.DataFrame:
    """Does the tokenizer carry information? Its held-out PSNR per benchmark against the supervoxel-mean
    reference (the bar: at most ``margin_db`` below it)."""
    rows = [{"benchmark": b, "tokenizer_psnr": tokenizer_psnr[b], "block_mean_psnr": block_mean_psnr[b],
             "gap_db": tokenizer_psnr[b] - block_mean_psnr[b],
             "meets_bar": bool(tokenizer_psnr[b] >= block_mean_psnr[b] - margin_db)} for b in tokenizer_psnr]
    return pd.DataFrame(rows)


def final_psnr(table: pd.DataFrame) -> pd.DataFrame:
    """Held-out PSNR per row and run length at its last step (mean over seeds, and their std where a row has more
    than one seed), with the references: (row, steps) x benchmark."""
    psnr = with_train_steps(table[table.metric == "psnr"])
    last = psnr[psnr.step == psnr.train_steps]
    benchmarks = [b for b in data.BENCHMARKS if b in set(last.benchmark)]
    mean = last.pivot_table(index=["row", "step"], columns="benchmark", values="value", aggfunc="mean")[benchmarks]
    if last.groupby(["row", "step"]).seed.nunique().max() < 2:
        return mean
    std = last.pivot_table(index=["row", "step"], columns="benchmark", values="value", aggfunc="std")[benchmarks]
    return pd.concat({"mean": mean, "std over seeds": std}, axis=1)


def bar_text(verdict: pd.DataFrame) -> str:
    """A computed sentence on ``bar(...)``: which benchmarks the tokenizer reaches the bar on, by how much."""
    parts = [f"{r.benchmark} {r.tokenizer_psnr:.2f} dB vs {r.block_mean_psnr:.2f} dB ({r.gap_db:+.2f} dB)"
             for r in verdict.itertuples()]
    if verdict.meets_bar.all():
        head = "**The tokenizer meets the bar on every benchmark**"
    elif verdict.meets_bar.any():
        head = (f"**The tokenizer meets the bar on {', '.join(verdict.benchmark[verdict.meets_bar])} only**; "
                "it misses it on " + ", ".join(verdict.benchmark[~verdict.meets_bar]))
    else:
        head = "**The tokenizer misses the bar on every benchmark**"
    return (f"{head} (held-out PSNR against the supervoxel mean, bar: at most 1 dB below it): "
            + "; ".join(parts) + ".")
