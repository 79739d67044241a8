"""Predicted wall time of the `gpu` study per notebook on one H200: PREDICTIONS, not measurements.

    PYTHONPATH=$PWD python benchmarks/predict_gpu_times.py [--parallel 4]

Writes ``results/gpu/predicted_times.csv`` (notebook, predicted_seconds, the parts behind each number and where each
rate comes from) and prints it. Each notebook is a list of parts: what it trains, generates and scores at the `gpu`
profile, each model counted once, in the notebook that trains it under ``--parallel`` (the others load it from the
cache), with its seconds on an otherwise idle GPU and its GPU-busy share. A part that needs a model another notebook
of its phase trains waits for it: notebook 02's resolving power waits for the shared tokenizer, which notebook 03
trains first (its learning curves are read from the committed CSV), and 03's retention waits for 02's evaluator.

The rates, and where each comes from (the ``basis`` column names them per part):

- MEASURED on the H200 of 2026-12-04 (commit 3c5eb9c, ``results/gpu/``; ``H200_*`` constants): the executed
  notebooks' cell times (kernel start, notebook 01's cells, notebook 02's evaluator, validation and resolving power,
  notebook 03's learning curves), the tokenizer's 3000 steps alone (the retention call), the B transformer's training
  step on the token-id path (``diagnostics/bench_transformer_paths.csv``, 127.9 steps/s in bf16) and inside a notebook
  (57 steps/s in notebook 02, with the deterministic algorithms' fills of every new tensor, off since);
- MEASURED on the H100 of 2026-11-27 (``results/gpu/h100_session/``): Figure 5's decoders, the bf16 transformer's
  achieved TFLOP/s (the GPU part of a training step), the launch interval and bandwidth (sampling);
- the cost model (``magvit.experiments.cost_model``): FLOPs and operator counts, to scale B's measured step to L's, the
  measured tokenizer step to Table 7's widths, and the measured sampling of COMMIT to the other decoders;
- ``ASSUMED_*`` constants: no measurement exists; the ``basis`` column says so where one is used.

Each phase of ``magvit.study.PHASES`` is simulated on ``--parallel`` slots, notebooks started in the runner's order
(``magvit.study.LONGEST_FIRST``); while several run, the GPU share of each one's current part is stretched by the sum
of their GPU-busy shares where it exceeds 1 (:func:`schedule`). The last row repeats the total with the transformer at
the rate measured inside notebook 02 (deterministic fills on), the pessimistic case.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from magvit import profiles
from magvit.config import DataConfig, Profile, TokenizerConfig, TransformerConfig
from magvit.experiments import cost_model, learning_curves, table7
from magvit.experiments.resolving_power import FRACTIONS, reference_config
from magvit.experiments.table1 import size_config
from magvit.generative.model import GenerativeConfig, MaskedVideoModel, build_transformer
from magvit.generative.tasks import MT8, MT10
from magvit.generative.token_set import TokenSet
from magvit.generative.train import make_token_step_fn, param_groups
from magvit.infra import results
from magvit.infra.paths import committed_results_dir
from magvit.study import LONGEST_FIRST, PHASES
from magvit.tokenizer.model import build_tokenizer

# MEASURED on the H200 (2026-12-04, commit 3c5eb9c; results/gpu/notebooks/*.ipynb cell times, study_log.csv)
H200 = "H200 2026-12-04"
H200_KERNEL_START_S = 4.0  # a notebook's wall minus the sum of its cells: 3.1-5.3 s for 00-03
H200_IMPORT_CELL_S = 4.0  # the first code cell (imports, the profile): 3.7-4.2 s in 00-03
H200_00_WALL_S = 8.8  # notebook 00 whole (study_log.csv)
H200_01_CELLS_S = 34.5  # notebook 01's cells up to the real-format loaders (it failed there: no imageio-ffmpeg)
H200_TOKENIZER_STEPS_PER_S = 30.0  # the gpu tokenizer (batch 24, clips by 8 workers) alone: 3000 steps in 102 s
H200_EVALUATOR_S_PER_STEP = 0.051  # 1000 steps of batch 64 in 51 s alone (45.5 s cell in 02 beside 01 and 03)
H200_02_CHECKS_S = 3.5 + 2.4 + 24.6 + 1.2 + 8.1  # 02: held-out accuracy, real IS, validation curves + plot, floor
H200_RP_ROW_S = 2.6  # 02's resolving power: one 512-clip row sampled and scored, floors included (194.5 s cell less
# the tokenizer's 120 s and the six transformers' 59 s, over 6 rows)
H200_CURVES_S_PER_ROW_STEP = 149.5 / (15 * 100)  # 03's learning curves: 15 rows x 100 steps in 149.5 s
H200_TOKEN_SET_S = 3.6  # 02: the first step of the first model per benchmark (8192 clips tokenised, one task)
H200_TOKEN_SET_CLIPS = 8192
H200_B_NOTEBOOK_STEPS_PER_S = 57.0  # 02: pushbot FP 500 steps in 8.8 s, 1000 in 18 s, alone on the GPU, with the
# deterministic algorithms' fill of every new tensor (394 fills a step beside 272 kernels, counted on the CPU)
CPU_TOKENIZER_H200 = (900, 20.0)  # measured: the cpu tokenizer's steps and seconds on an H200 (clips on the thread)
CLIPS_15_WORKERS = (57_000, 12.0, 15)  # measured, H200: clips at 32 x 32, seconds, worker processes
CPU_EVALUATOR_H200 = (400, 12.5)  # measured: the cpu evaluator's steps (batch 32) and seconds on an H200
# MEASURED on the 2-core CPU of the study (where they run): one evaluation's FVD and KVD bootstraps (100 draws) and
# grouped FVD, 0.08 s at 128 clips and 0.12 s at 512 (64 features)
EVAL_BOOTSTRAP_S = 0.15

ASSUMED_FIT_OVERHEAD = 1.15  # a training step in fit() (logging, checkpoints) over the benchmark's bare step
ASSUMED_FIGURE_S = 0.5  # one rendered figure (counted in the cpu run's executed notebook)
ASSUMED_METADATA_SHARE = 0.25  # host cost of a metadata-only operator relative to a launched kernel
ASSUMED_CONV_SHARE = 0.5  # the tokenizer's fp32 3D convolutions reach half the measured fp32 matmul rate
ASSUMED_MIN_GPU_SHARE = 0.3  # a training loop's share of the GPU at least (several processes time-slice it)
ASSUMED_03_AFTER_TOKENIZER_S = 25.0  # 03: reconstructions, quality, references, retention (3 x 256 clips)
ASSUMED_04_S = 5.0  # 04: its figures of the MT8 model another notebook trains
ASSUMED_12_S = 5.0  # 12: tables, claims, one figure
ASSUMED_EVAL_SHARE = 0.4  # sampling, decoding and the evaluator's features on the GPU; drawing the real clips and
# the bootstraps on the host
EVALUATOR_SHARE = 0.2  # measured: 02's evaluator ran no slower beside 03's learning curves, which the GPU bounds
TOKENIZER_SHARE = 1.0  # measured: two tokenizers training at once ran at half the rate each (16 vs 30 steps/s)


@dataclass(frozen=True)
class Part:
    what: str
    seconds: float
    share: float  # GPU-busy share while it runs
    waits: str | None = None  # a model another notebook trains (its part's ``makes``)
    makes: str | None = None


@dataclass(frozen=True)
class Step:
    seconds: float
    share: float
    basis: str


def device_rates(folder: Path) -> dict:
    device = pd.read_csv(folder / "h100_session" / "device.csv").iloc[0]
    steps = pd.read_csv(folder / "h100_session" / "gpu_profile_steps.csv")
    bf16 = steps[steps["what"].str.startswith("transformer B") & (steps["precision"] == "bfloat16")].iloc[0]
    bench = pd.read_csv(folder / "diagnostics" / "bench_transformer_paths.csv")
    fast = bench[bench["path"].str.startswith("token ids") & bench["bf16"] & bench["fused_adamw"]].iloc[0]
    return {"h100": device["device_name"], "launch_s": device["launch_interval_us"] * 1e-6,
            "transformer_tflops": bf16["achieved_tflops"], "fp32_tflops": device["matmul_fp32_gflops"] / 1e3,
            "bandwidth": device["copy_bandwidth_gbs"] * 1e9, "b_bench_steps_per_s": float(fast["steps_per_s"]),
            "bench_batch": int(fast["batch"]), "bench_device": fast["device_name"]}


def step_ops(p: Profile, cfg: TransformerConfig) -> tuple[float, float]:
    """(operators a token-set training step dispatches, kernels + metadata weighted; FLOPs at the profile's batch),
    counted on the CPU at batch 2 (the operator count does not depend on the batch)."""
    gcfg = GenerativeConfig(transformer=replace(cfg, batch_size=2), tokenizer=p.tokenizer, data=p.data,
                            dataset="pushbot", tasks=("FP",))
    tok = build_tokenizer(p.tokenizer, p.data).eval()
    transformer = build_transformer(gcfg, tok.codebook_size, tuple(tok.latent_shape))
    model = MaskedVideoModel(gcfg, tok, transformer)
    opt = torch.optim.AdamW(param_groups(transformer, cfg.weight_decay), lr=cfg.lr, foreach=True)  # CUDA's default
    n = math.prod(tok.latent_shape)
    tset = TokenSet(torch.randint(0, tok.codebook_size, (8, n)), torch.randint(0, tok.codebook_size, (1, 8, n)),
                    torch.zeros(8, dtype=torch.long), torch.zeros(1, n, dtype=torch.bool), ("FP",))
    step = make_token_step_fn(model, opt, tset, bf16=p.speed.bf16)
    step(0)
    kernels, metadata = cost_model.count_ops(lambda: step(1))
    flops = cost_model.transformer_train_step(cfg, cfg.batch_size, n, tok.codebook_size).flops
    return kernels + ASSUMED_METADATA_SHARE * metadata, flops


def transformer_steps(p: Profile, rates: dict, fills: bool = False) -> dict[str, Step]:
    """Seconds per training step of B and L inside a notebook. B: the H200 benchmark's step (token ids, bf16, fused
    AdamW) x ASSUMED_FIT_OVERHEAD, or with ``fills`` the rate measured inside notebook 02. Split into a GPU part
    (FLOPs at the H100's achieved bf16 rate) and a host part (the rest); L = B's host part x the ratio of operators +
    B's GPU part x the ratio of FLOPs (no overlap assumed)."""
    if p.transformer.batch_size != rates["bench_batch"]:
        raise ValueError(f"the H200 benchmark measured batch {rates['bench_batch']}; the profile's B trains at "
                         f"{p.transformer.batch_size}: measure it there first")
    ops_b, flops_b = step_ops(p, p.transformer)
    ops_l, flops_l = step_ops(p, p.tables.large)
    gpu_b = flops_b / (rates["transformer_tflops"] * 1e12)
    if fills:
        b = 1 / H200_B_NOTEBOOK_STEPS_PER_S
        source = f"{H200_B_NOTEBOOK_STEPS_PER_S:.0f} steps/s measured in notebook 02 ({H200}, fills on)"
    else:
        b = ASSUMED_FIT_OVERHEAD / rates["b_bench_steps_per_s"]
        source = (f"{rates['b_bench_steps_per_s']:.1f} steps/s measured ({H200}, bench_transformer_paths.csv) x "
                  f"{ASSUMED_FIT_OVERHEAD} (fit(), assumed)")
    host_b = b - gpu_b
    host_l, gpu_l = host_b * ops_l / ops_b, gpu_b * flops_l / flops_b
    out = {"B": Step(b, max(ASSUMED_MIN_GPU_SHARE, gpu_b / b),
                     f"B {1e3 * b:.1f} ms a step: {source}; GPU part {1e3 * gpu_b:.1f} ms ({flops_b / 1e12:.3f} "
                     f"TFLOP at {rates['transformer_tflops']:.0f} TFLOP/s, H100)")}
    lsec = host_l + gpu_l
    out["L"] = Step(lsec, max(ASSUMED_MIN_GPU_SHARE, gpu_l / lsec),
                    f"L {1e3 * lsec:.1f} ms a step: B's host part x {ops_l / ops_b:.2f} operators + GPU part x "
                    f"{flops_l / flops_b:.2f} FLOPs (cost model)")
    return out


def tokenizer_flops(cfg: TokenizerConfig, resolution: int, batch: int, frames: int = 16) -> float:
    with torch.device("meta"):
        model = build_tokenizer(cfg, DataConfig(num_frames=frames, resolution=resolution))
        video = torch.zeros(batch, 3, frames, resolution, resolution)
        with torch.no_grad():
            return cost_model.count(lambda: model.decoder(model.encoder(model.to_input(video)))).flops


def tokenizer_step(cfg: TokenizerConfig, p: Profile) -> Step:
    """A step of a tokenizer of ``cfg``: the profile's tokenizer step measured on the H200 (GPU-bound: two at once
    ran at half the rate each), scaled by FLOPs, at least the `cpu` tokenizer's H200 step less its clip drawing (the
    launch-bound floor); its GPU-busy share is the FLOP-scaled step over the step."""
    measured = 1 / H200_TOKENIZER_STEPS_PER_S
    ratio = (tokenizer_flops(cfg, p.data.resolution, cfg.batch_size)
             / tokenizer_flops(p.tokenizer, p.data.resolution, p.tokenizer.batch_size))
    steps, seconds = CPU_TOKENIZER_H200
    floor = seconds / steps - 9 * clip_inprocess_s()
    step = max(measured * ratio, floor)
    return Step(step, max(ASSUMED_MIN_GPU_SHARE, TOKENIZER_SHARE * measured * ratio / step),
                f"max(the gpu tokenizer's {1e3 * measured:.0f} ms ({H200}) x FLOP ratio {ratio:.2f}, the cpu "
                f"tokenizer's {1e3 * floor:.0f} ms less clips)")


def clip_worker_s() -> float:
    clips, seconds, workers = CLIPS_15_WORKERS
    return seconds * workers / clips  # seconds per clip in one worker


def clip_inprocess_s() -> float:
    steps, seconds = CPU_EVALUATOR_H200
    return 0.5 * seconds / (steps * 32)  # at most all of the evaluator's step; half of it assumed


def sampling_s(p: Profile, decoder: str, clips: int, rates: dict, size: str = "B") -> float:
    """Cost model: sampling ``clips`` clips in batches of the eval batch and decoding them (H100 rates)."""
    cfg = p.transformer if size == "B" else p.tables.large
    bs = p.eval.batch_size
    hw = cost_model.Hardware("dev", rates["h100"], rates["transformer_tflops"] * 1e12, rates["bandwidth"], 2,
                             rates["launch_s"], "measured")
    passes = cost_model.decoder_passes(decoder, cfg, 256, bs, cfg.decode_steps,
                                       cond_tokens=64 if decoder == "ar" else 0)
    dec, _ = cost_model.tokenizer_decode_pass(p.tokenizer, p.data.num_frames, p.data.resolution, bs)
    return math.ceil(clips / bs) * (cost_model.seconds(passes, hw) + cost_model.seconds([dec], hw))


def evaluation_s(p: Profile, decoder: str, clips: int, rates: dict, size: str = "B") -> float:
    """One evaluation of ``clips`` generated clips: notebook 02's measured 512-clip COMMIT row, its sampling swapped
    for the cost model's of ``decoder``, the rest scaled by the clips."""
    other = (H200_RP_ROW_S - EVAL_BOOTSTRAP_S - sampling_s(p, "commit", 512, rates)) / 512
    return EVAL_BOOTSTRAP_S + clips * max(0.0, other) + sampling_s(p, decoder, clips, rates, size)


def figures(notebook: str) -> int:
    path = committed_results_dir("cpu") / "notebooks" / f"{notebook}.ipynb"
    if not path.exists():
        return 0
    cells = json.loads(path.read_text())["cells"]
    return sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))


def figure5_s(p: Profile, folder: Path) -> tuple[float, str]:
    table = pd.read_csv(folder / "figure5_generation.csv")
    t = table[(table.model == "MAGVIT-B") & (table.precision == "fp32") & table.resolution.isin(
        [r for r in p.figure5.resolutions if all((r, b) not in p.figure5.predict_only for b in p.figure5.batches)])]
    per = (t.transformer_s_per_clip * t.batch).where(t.decoder != "diffusion", t.forward_full_timed_s.fillna(
        t.forward_full_extrapolated_s))
    seconds = float(per.sum()) * p.figure5.repeats * 1.5  # + warm-up and the decoder timing
    return seconds, f"H100 Fig. 5 timings (figure5_generation.csv) x {p.figure5.repeats} repeats x 1.5"


def missing_curve_rows(p: Profile) -> list[str]:
    """Notebook 03's learning-curve rows its profile's committed CSV lacks (``learning_curves.load_or_run`` trains
    only those)."""
    path = committed_results_dir(p.name) / f"{learning_curves.TABLE}.csv"
    have = set(pd.read_csv(path)["row"]) if path.exists() else set()
    return [r for r in learning_curves.NOTEBOOK_ROWS if r not in have]


def plan(p: Profile, rates: dict, steps: dict[str, Step]) -> dict[str, list[Part]]:
    """notebook -> its parts."""
    b, big = steps["B"], steps["L"]
    tok_s = 1 / H200_TOKENIZER_STEPS_PER_S
    t7 = tokenizer_step(replace(p.tokenizer, filters=p.tokenizer.filters // 2), p)  # table7_configs: F / 2
    full7, half7 = table7.budget_steps(p, "full"), table7.budget_steps(p, "half")
    workers = max(1, p.speed.workers)
    draw = p.speed.train_clips * clip_worker_s() / workers
    with torch.device("meta"):
        encoder = build_tokenizer(p.tokenizer, p.data)
        video = torch.zeros(1, 3, p.data.num_frames, p.data.resolution, p.data.resolution)
        with torch.no_grad():
            encode = cost_model.count(lambda: encoder.encoder(encoder.to_input(video))).flops  # per clip
    conv_rate = rates["fp32_tflops"] * 1e12 * ASSUMED_CONV_SHARE
    scale = H200_TOKEN_SET_S / (H200_TOKEN_SET_CLIPS * (clip_worker_s() / workers + 2 * encode / conv_rate))

    def token_sets(what: str, *task_counts: int, waits: str | None = None) -> Part:
        """Drawing the clips (workers) and encoding V and each task's V~, scaled to the measured 8192-clip set."""
        seconds = sum(scale * (draw + p.speed.train_clips * (1 + t) * encode / conv_rate) for t in task_counts)
        return Part(f"token sets ({p.speed.train_clips} clips): {what}", seconds, 0.5, waits)

    def models(count: int, cfg: TransformerConfig, size: str = "B", what: str = "", waits: str | None = None
               ) -> Part:
        s = b if size == "B" else big
        return Part(f"{count} transformer(s) {size} x {cfg.steps} steps{what}", count * cfg.steps * s.seconds, s.share,
                    waits)

    def evals(decoder: str, count: int, clips: int, size: str = "B") -> Part:
        return Part(f"{count} x {clips} clips generated and scored ({decoder})",
                    count * evaluation_s(p, decoder, clips, rates, size), ASSUMED_EVAL_SHARE)

    def fraction(cfg: TransformerConfig, f: float) -> TransformerConfig:
        return replace(cfg, steps=max(2, int(round(cfg.steps * f))))

    n = int(p.tables.eval_samples * p.tables.eval_fraction)
    task_n = int(p.tables.eval_samples * p.tables.task_eval_fraction)
    ev = p.evaluator.steps * H200_EVALUATOR_S_PER_STEP
    f5, f5_basis = figure5_s(p, committed_results_dir("gpu") / "h100_session")
    vq2d = int(round(p.tokenizer.steps * p.tables.vq2d_steps_fraction))
    cg, fp = reference_config(p, "CG"), reference_config(p, "FP")
    rp_cg = sum(fraction(cg, f).steps for f in FRACTIONS)
    rp_fp = sum(fraction(fp, f).steps for f in FRACTIONS)
    t1 = {size: size_config(p, size, p.tables.table1_train_fraction) for size in ("B", "L")}
    scenes = size_config(p, "B", p.tables.scenes_train_fraction)
    missing = missing_curve_rows(p)
    curves = len(missing) * p.tokenizer_curve_steps * H200_CURVES_S_PER_ROW_STEP
    return {
        "00_overview": [Part(f"measured whole ({H200}, study_log.csv)", H200_00_WALL_S, 1.0)],
        "01_data": [Part(f"cells as measured ({H200}; the three video formats now skipped there)", H200_01_CELLS_S,
                         0.3)],
        "02_metrics": [
            Part(f"evaluator {p.evaluator.steps} steps ({H200}: 51 s per 1000)", ev, EVALUATOR_SHARE,
                 makes="evaluator"),
            Part(f"held-out accuracy, real IS, validation curves, noise floor ({H200})", H200_02_CHECKS_S, 0.3),
            token_sets("shapes CG, pushbot FP (resolving power)", 1, 1, waits="tokenizer"),
            Part(f"resolving power: shapes CG B x {rp_cg} steps (1/8, 1/2, 1 of {cg.steps})", rp_cg * b.seconds,
                 b.share),
            Part(f"resolving power: pushbot FP B x {rp_fp} steps (1/8, 1/2, 1 of {fp.steps})", rp_fp * b.seconds,
                 b.share),
            Part(f"resolving power: 6 rows x {n} clips scored ({H200}: {H200_RP_ROW_S} s a 512-clip row)",
                 6 * evaluation_s(p, "commit", n, rates), ASSUMED_EVAL_SHARE)],
        "03_tokenizer": [
            Part(f"learning curves: {len(missing)} rows missing from the committed CSV x {p.tokenizer_curve_steps} "
                 f"steps ({H200}: 149.5 s for 15 x 100)", curves, 1.0),
            Part(f"tokenizer {p.tokenizer.steps} steps ({H200}: {H200_TOKENIZER_STEPS_PER_S:.0f} steps/s alone)",
                 p.tokenizer.steps * tok_s, TOKENIZER_SHARE, makes="tokenizer"),
            Part("reconstructions, quality, references, retention (assumed)", ASSUMED_03_AFTER_TOKENIZER_S, 0.3,
                 waits="evaluator")],
        "04_commit": [Part("the MT8 model, trained by 05 or 08 (counted in 05), and its figures (assumed)",
                           ASSUMED_04_S, 0.3)],
        "05_decoding": [token_sets("MT8, FP through the 2D-VQ", len(MT8), 1),
                        models(2, p.transformer, what=" (MaskGIT and AR on FP; COMMIT FP is 02's)"),
                        Part(f"2D-VQ tokenizer {vq2d} steps", vq2d * tok_s, TOKENIZER_SHARE),
                        Part(f"MaskGIT on the 2D-VQ, 1026 tokens, {0.25 * p.transformer.steps:.0f} steps (4x the "
                             "tokens)", 0.25 * p.transformer.steps * 4 * b.seconds, b.share),
                        models(1, p.transformer, what=" (MT8 seed 0)"),
                        evals("commit", 2, 256), evals("maskgit", 1, 256), evals("ar", 1, 256)],
        "06_table1": [models(1, t1["B"], what=" (MAGVIT-B-CG seed 1; seed 0 is 02's reference)"),
                      models(2, t1["L"], "L", " (MAGVIT-L-CG, 2 seeds)"),
                      models(1, t1["B"], what=" (AR-B-CG, 1 seed)"),
                      evals("commit", 2, n), evals("commit", 2, n, "L"), evals("ar", 1, n),
                      evals("commit", 2, n)],  # the real-clips row and the tokenizer floor
        "07_tables2_3": [token_sets("scenes FP (5 frames)", 1),
                         models(3, scenes, what=" (scenes: B x 2 seeds, AR)"),
                         evals("commit", 4, n), evals("ar", 2, n), evals("commit", 2, n)],
        "08_table4": [token_sets("pushbot UNC, shapes MT10", 1, len(MT10)), models(5, p.transformer),
                      evals("commit", 6 * len(MT8) + len(MT10), task_n)],
        "09_table5": [token_sets("prefix FP", 1), models(7, p.transformer),
                      evals("commit", 9 + 4 * len(MT8), task_n)],
        # table7_configs at two budgets: the claim rows (2D-VQ, B, central, average + their 2D-VQ pretraining) at
        # full and half steps, the short rows (TATS, zeros, the paper's design) at half only; L at both
        "10_table7": [Part(f"2 seeds x B-width tokenizers (5 x {full7} + 8 x {half7} steps): {t7.basis}",
                           2 * (5 * full7 + 8 * half7) * t7.seconds, t7.share),
                      Part(f"2 seeds x L-width tokenizer x ({full7} + {half7}) steps",
                           2 * (full7 + half7) * tok_s, TOKENIZER_SHARE),
                      Part("reconstructions of 26 models + token consistency",
                           26 * (p.eval.num_samples // 2 * clip_inprocess_s() + 2), 0.3)],
        "11_figure5": [Part(f"Figure 5 timed directly: {f5_basis}", f5, 1.0)],
        "12_summary": [Part("tables, claims, figure (assumed)", ASSUMED_12_S, 0.0)],
    }


def notebook_parts(nb: str, parts: list[Part]) -> list[Part]:
    """The notebook's parts with its start (kernel, imports) and figures, as the schedule runs them."""
    if nb == "00_overview":
        return parts  # measured whole
    if nb == "01_data":  # measured cells: its imports and figures among them
        return [Part(f"kernel start ({H200})", H200_KERNEL_START_S, 0.0), *parts]
    return [Part(f"kernel start and imports ({H200})", H200_KERNEL_START_S + H200_IMPORT_CELL_S, 0.0), *parts,
            Part(f"{figures(nb)} figures x {ASSUMED_FIGURE_S} s (assumed)", figures(nb) * ASSUMED_FIGURE_S, 0.0)]


def schedule(parts: dict[str, list[Part]], slots: int, done: set[str] | None = None, dt: float = 0.1) -> float:
    """Wall time of the notebooks started in the runner's order on ``slots`` processes. A part whose ``waits`` names
    a model no finished part ``makes`` yet holds its notebook (off the GPU); every other running part's GPU share is
    stretched by max(1, the sum of the running parts' GPU-busy shares), its host share not (notebook 02's evaluator
    ran no slower beside 03's tokenizer training, which the GPU bounds)."""
    made = set(done or ())
    queue = [nb for nn in LONGEST_FIRST for nb in parts if nb.startswith(nn)]
    queue += [nb for nb in parts if nb not in queue]
    running: dict[str, list[list]] = {}  # notebook -> [[part, seconds left], ...]
    clock = 0.0
    makers = {p.makes for ps in parts.values() for p in ps if p.makes}
    while queue or running:
        while queue and len(running) < slots:
            nb = queue.pop(0)
            running[nb] = [[p, p.seconds] for p in parts[nb]]
        active = {nb: todo[0][0] for nb, todo in running.items()
                  if not (todo[0][0].waits in makers and todo[0][0].waits not in made)}
        if not active:
            raise RuntimeError(f"the schedule is stuck: {sorted(running)} wait for models no notebook makes")
        stretch = max(1.0, sum(part.share for part in active.values()))  # the GPU's work queues
        for nb, part in active.items():
            todo = running[nb]
            todo[0][1] -= dt / (1 - part.share + part.share * stretch)  # only a part's GPU share waits
            while todo and todo[0][1] <= 0:
                if todo[0][0].makes:
                    made.add(todo[0][0].makes)
                todo.pop(0)
            if not todo:
                del running[nb]
        clock += dt
    return clock


def predict(p: Profile, rates: dict, parallel: int, fills: bool = False) -> tuple[pd.DataFrame, list[float], dict]:
    steps = transformer_steps(p, rates, fills)
    parts = {nb: notebook_parts(nb, items) for nb, items in plan(p, rates, steps).items()}
    rows = []
    for nb, items in parts.items():
        seconds = sum(x.seconds for x in items)
        share = sum(x.seconds * x.share for x in items) / seconds if seconds else 0.0
        rows.append({"notebook": f"{nb}.ipynb", "predicted_seconds": round(seconds, 1),
                     "gpu_busy_share": round(share, 2),
                     "basis": "; ".join(f"{x.what}: {x.seconds:.1f} s" for x in items if x.seconds)})
    walls = [schedule({nb: ps for nb, ps in parts.items() if first <= int(nb[:2]) <= last}, parallel)
             for first, last in PHASES]
    return pd.DataFrame(rows), walls, steps


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    p = profiles.get("gpu", device="cpu")
    rates = device_rates(committed_results_dir("gpu"))
    table, walls, steps = predict(p, rates, args.parallel)
    _, walls_fills, steps_fills = predict(p, rates, args.parallel, fills=True)
    phases = " + ".join(f"{first:02d}-{last:02d} {w:.0f} s" if first != last else f"{first:02d} {w:.0f} s"
                        for (first, last), w in zip(PHASES, walls, strict=True))
    table = pd.concat([table, pd.DataFrame([
        {"notebook": "TOTAL one at a time", "predicted_seconds": round(table.predicted_seconds.sum(), 1),
         "gpu_busy_share": np.nan, "basis": "sum of the rows"},
        {"notebook": f"TOTAL --parallel {args.parallel}", "predicted_seconds": round(sum(walls), 1),
         "gpu_busy_share": np.nan,
         "basis": f"phases one after another ({phases}); in a phase, the runner's order on {args.parallel} processes, "
                  "a part waiting for another notebook's model held, the rest stretched by the GPU contention"},
        {"notebook": f"TOTAL --parallel {args.parallel}, transformer at notebook 02's measured rate",
         "predicted_seconds": round(sum(walls_fills), 1), "gpu_busy_share": np.nan,
         "basis": f"as above with {steps_fills['B'].basis}; {steps_fills['L'].basis}"},
    ])], ignore_index=True)
    table["kind"] = "PREDICTION (not measured)"
    table["transformer_steps"] = f"{steps['B'].basis} | {steps['L'].basis}"
    table["rates_from"] = (f"{H200} (results/gpu: notebooks, study_log.csv, diagnostics/bench_transformer_paths.csv; "
                           f"{rates['bench_device']}), {rates['h100']} (results/gpu/h100_session: device.csv, "
                           "gpu_profile_steps.csv, figure5_generation.csv)")
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table[["notebook", "predicted_seconds", "gpu_busy_share"]].to_string(index=False))
        print(steps["B"].basis)
        print(steps["L"].basis)
    table = results.blank_missing(table, ["gpu_busy_share"])
    path = results.write_table(table, "predicted_times", profile="gpu", seeds=list(p.seeds), device="prediction")
    print(f"wrote {path}")
    return table


if __name__ == "__main__":
    main()
