"""Predicted wall time of the `gpu` study per notebook on one H100 / H200 (issue 27): PREDICTIONS, not measurements.

    PYTHONPATH=$PWD python benchmarks/predict_gpu_times.py [--parallel 4]

Writes ``results/gpu/predicted_times.csv`` (notebook, predicted_seconds, basis, and the parts behind each number) and
prints it. What each notebook does at `gpu` is the plan its setup cell prints (the `cpu` run's executed notebooks in
``results/notebooks/`` show the same plans: the `gpu` profile keeps the `cpu` profile's cuts, see
``magvit.profiles.gpu``), with each model counted once, in the notebook that starts first under ``--parallel``
(``magvit.study.LONGEST_FIRST``). The rates:

- the GPU's and its host's, from the H100 session in ``results/gpu/h100_session/``: ``device.csv`` (the launch
  interval of back-to-back kernels, H100 host) and ``gpu_profile_steps.csv`` (the bf16 transformer's achieved
  TFLOP/s, the old `gpu` tokenizer's step);
- issue 27's H200 measurements with the `cpu` profile's code: the `cpu` tokenizer's 900 steps in ~20 s, the proxy
  evaluator's 400 steps in 12.5 s, 57,000 clips at 32 x 32 drawn in 12 s by 15 worker processes;
- the cost model (``magvit.experiments.cost_model``): FLOPs of a training step and of each decoder; the operators a
  training step dispatches, counted here on the CPU (the step is launch-bound on a GPU: host time = kernels x the
  launch interval, metadata-only operators at a quarter of it);
- Figure 5's decoders timed on the H100 (``results/gpu/h100_session/figure5_generation.csv``).

Constants that are assumptions (no measurement exists) are named ``ASSUMED_*`` and say so in the ``basis`` column.
Each phase of ``magvit.study.PHASES`` is a greedy schedule of its notebooks' predicted times on ``--parallel`` slots,
each stretched by the GPU's contention (the sum of the running notebooks' GPU-busy shares, when above 1).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from magvit import profiles
from magvit.config import DataConfig, Profile, TokenizerConfig
from magvit.experiments import cost_model
from magvit.generative.model import GenerativeConfig, MaskedVideoModel, build_transformer
from magvit.generative.tasks import MT8, MT10
from magvit.generative.token_set import TokenSet
from magvit.generative.train import make_token_step_fn, param_groups
from magvit.infra import results
from magvit.infra.paths import committed_results_dir
from magvit.study import LONGEST_FIRST, PHASES
from magvit.tokenizer.model import build_tokenizer

ASSUMED_NOTEBOOK_START_S = 10.0  # a fresh kernel: python, torch, matplotlib, magvit imports, CUDA context
ASSUMED_FIGURE_S = 0.5  # one rendered figure (counted in the cpu run's executed notebook)
ASSUMED_EVAL_FIXED_S = 1.0  # one evaluation's FVD bootstrap and bookkeeping (CPU)
ASSUMED_PROBE_STEP_S = 0.01  # notebook 01's probe CNN step on the GPU
ASSUMED_METADATA_SHARE = 0.25  # host cost of a metadata-only operator relative to a launched kernel
ASSUMED_CONV_SHARE = 0.5  # the tokenizer's fp32 3D convolutions reach half the measured fp32 matmul rate
CLIPS_15_WORKERS = (57_000, 12.0, 15)  # issue 27, H200: clips at 32 x 32, seconds, worker processes
CPU_TOKENIZER_H200 = (900, 20.0)  # issue 27: the cpu tokenizer's steps and seconds on an H200 (clips on the thread)
CPU_EVALUATOR_H200 = (400, 12.5)  # issue 27: the cpu evaluator's steps (batch 32) and seconds on an H200


def device_rates(folder) -> dict[str, float]:
    device = pd.read_csv(folder / "device.csv").iloc[0]
    steps = pd.read_csv(folder / "gpu_profile_steps.csv")
    bf16 = steps[steps["what"].str.startswith("transformer B") & (steps["precision"] == "bfloat16")].iloc[0]
    tok = steps[steps["what"].str.startswith("tokenizer (as trained")].iloc[0]
    return {"device": device["device_name"], "launch_s": device["launch_interval_us"] * 1e-6,
            "transformer_tflops": bf16["achieved_tflops"], "fp32_tflops": device["matmul_fp32_gflops"] / 1e3,
            "bandwidth": device["copy_bandwidth_gbs"] * 1e9,
            "old_tokenizer_step_s": tok["s_per_step"], "old_tokenizer_batch": int(tok["batch"])}


def transformer_step(p: Profile, size: str, rates: dict, tokens: int = 256) -> tuple[float, float, str]:
    """(seconds per step, GPU-busy share, basis) of one token-set training step of the B or L transformer."""
    cfg = p.transformer if size == "B" else p.tables.large
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
    host = (kernels + ASSUMED_METADATA_SHARE * metadata) * rates["launch_s"]
    flops = cost_model.transformer_train_step(cfg, cfg.batch_size, n, tok.codebook_size).flops
    gpu = flops / (rates["transformer_tflops"] * 1e12)
    basis = (f"{size} {cfg.num_layers}x{cfg.hidden} batch {cfg.batch_size}: max(host {kernels} kernels + "
             f"{metadata} metadata ops x {rates['launch_s'] * 1e6:.1f} us = {host * 1e3:.2f} ms, GPU {flops / 1e12:.3f}"
             f" TFLOP at {rates['transformer_tflops']:.0f} TFLOP/s = {gpu * 1e3:.2f} ms)")
    return max(host, gpu), min(1.0, gpu / max(host, gpu)), basis


def tokenizer_flops(cfg: TokenizerConfig, resolution: int, batch: int, frames: int = 16) -> float:
    with torch.device("meta"):
        model = build_tokenizer(cfg, DataConfig(num_frames=frames, resolution=resolution))
        video = torch.zeros(batch, 3, frames, resolution, resolution)
        with torch.no_grad():
            return cost_model.count(lambda: model.decoder(model.encoder(model.to_input(video)))).flops


def tokenizer_step(cfg: TokenizerConfig, p: Profile, rates: dict) -> tuple[float, str]:
    """Seconds per tokenizer step at the profile's clips: the old `gpu` tokenizer's measured step scaled by FLOPs,
    at least the `cpu` tokenizer's measured H200 step less its clip drawing (the launch-bound floor)."""
    old = profiles.PROFILES["gpu"]().tokenizer  # this profile's; the measured one was the old gpu profile's:
    old = replace(old, filters=32, embedding_dim=64, num_res_blocks=2)
    ratio = (tokenizer_flops(cfg, p.data.resolution, cfg.batch_size)
             / tokenizer_flops(old, 64, rates["old_tokenizer_batch"]))
    scaled = rates["old_tokenizer_step_s"] * ratio
    steps, seconds = CPU_TOKENIZER_H200
    floor = seconds / steps - 9 * clip_inprocess_s()
    return max(scaled, floor), (f"max(old gpu tokenizer {rates['old_tokenizer_step_s']:.3f} s x FLOP ratio "
                                f"{ratio:.3f}, cpu tokenizer on the H200 {seconds / steps * 1e3:.1f} ms less clips)")


def clip_worker_s() -> float:
    clips, seconds, workers = CLIPS_15_WORKERS
    return seconds * workers / clips  # seconds per clip in one worker


def clip_inprocess_s() -> float:
    steps, seconds = CPU_EVALUATOR_H200
    return 0.5 * seconds / (steps * 32)  # at most all of the evaluator's step; half of it assumed


def generation_s(p: Profile, decoder: str, clips: int, rates: dict, size: str = "B") -> float:
    """Sampling ``clips`` clips (batches of the eval batch) + decoding + features + drawing the real clips."""
    cfg = p.transformer if size == "B" else p.tables.large
    bs = p.eval.batch_size
    hw = cost_model.Hardware("dev", rates["device"], rates["transformer_tflops"] * 1e12, rates["bandwidth"], 2,
                             rates["launch_s"], "measured")
    steps = cfg.decode_steps
    passes = cost_model.decoder_passes(decoder, cfg, 256, bs, steps, cond_tokens=64 if decoder == "ar" else 0)
    per_batch = cost_model.seconds(passes, hw)
    dec, _ = cost_model.tokenizer_decode_pass(p.tokenizer, p.data.num_frames, p.data.resolution, bs)
    per_batch += cost_model.seconds([dec], hw)
    return math.ceil(clips / bs) * per_batch + clips * clip_inprocess_s() + ASSUMED_EVAL_FIXED_S


def figures(notebook: str) -> int:
    path = committed_results_dir("cpu") / "notebooks" / f"{notebook}.ipynb"
    if not path.exists():
        return 0
    cells = json.loads(path.read_text())["cells"]
    return sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))


def figure5_s(p: Profile, folder) -> tuple[float, str]:
    table = pd.read_csv(folder / "figure5_generation.csv")
    t = table[(table.model == "MAGVIT-B") & (table.precision == "fp32") & table.resolution.isin(
        [r for r in p.figure5.resolutions if all((r, b) not in p.figure5.predict_only for b in p.figure5.batches)])]
    per = (t.transformer_s_per_clip * t.batch).where(t.decoder != "diffusion", t.forward_full_timed_s.fillna(
        t.forward_full_extrapolated_s))
    seconds = float(per.sum()) * p.figure5.repeats * 1.5  # + warm-up and the decoder timing
    return seconds, f"H100 Fig. 5 timings (figure5_generation.csv) x {p.figure5.repeats} repeats x 1.5"


def plan(p: Profile, rates: dict) -> dict[str, list[tuple[str, float, float]]]:
    """notebook -> [(part, seconds, GPU-busy share)]."""
    steps, t_steps = p.transformer.steps, p.transformer.steps
    b_step, b_gpu, b_basis = transformer_step(p, "B", rates)
    l_step, l_gpu, l_basis = transformer_step(p, "L", rates)
    tok_s, tok_basis = tokenizer_step(p.tokenizer, p, rates)
    curve_tok = tokenizer_step(replace(p.tokenizer, batch_size=p.tokenizer.batch_size), p, rates)[0]
    t7 = replace(p.tokenizer, filters=p.tokenizer.filters // 2)  # Table 7's B widths (table7_configs: F / 2)
    t7_s = tokenizer_step(t7, p, rates)[0]
    t7_l = tokenizer_step(p.tokenizer, p, rates)[0]
    workers = max(1, p.speed.workers)
    draws = p.speed.train_clips * clip_worker_s() / workers
    with torch.device("meta"):
        encoder = build_tokenizer(p.tokenizer, p.data)
        video = torch.zeros(1, 3, p.data.num_frames, p.data.resolution, p.data.resolution)
        with torch.no_grad():
            encode = cost_model.count(lambda: encoder.encoder(encoder.to_input(video))).flops  # per clip
    conv_rate = rates["fp32_tflops"] * 1e12 * ASSUMED_CONV_SHARE

    def token_sets(*task_counts: int) -> float:
        """Drawing the clips (workers) and encoding V and each task's V~ (fp32 convolutions)."""
        return sum(draws + p.speed.train_clips * (1 + t) * encode / conv_rate for t in task_counts)


    def models(count: int, size: str = "B", fraction: float = 1.0) -> tuple[str, float, float]:
        s, g = (b_step, b_gpu) if size == "B" else (l_step, l_gpu)
        return (f"{count} transformer(s) {size} x {int(t_steps * fraction)} steps", count * int(steps * fraction) * s,
                g)

    def gen(decoder: str, count: int, clips: int, size: str = "B") -> tuple[str, float, float]:
        return f"{count} x {clips} clips generated ({decoder})", count * generation_s(p, decoder, clips, rates,
                                                                                      size), 0.5

    n = int(p.tables.eval_samples * p.tables.eval_fraction)
    task_n = int(p.tables.eval_samples * p.tables.task_eval_fraction)
    ev_steps, ev_seconds = CPU_EVALUATOR_H200
    ev = p.evaluator.steps * ev_seconds / ev_steps
    f5, f5_basis = figure5_s(p, committed_results_dir("gpu") / "h100_session")
    vq2d = int(round(p.tokenizer.steps * p.tables.vq2d_steps_fraction))
    return {
        "00_overview": [("machine measurements (matmul peak)", 5.0, 1.0)],
        "01_data": [("4 probes x probe_steps", 4 * p.data.probe_steps * ASSUMED_PROBE_STEP_S, 0.5),
                    ("statistics: clips drawn on the host", 3 * 8 * p.data.stats_clips * clip_inprocess_s(), 0.0)],
        "02_metrics": [(f"evaluator {p.evaluator.steps} steps (cpu evaluator's H200 step, clips by workers)", ev, 0.5),
                       ("validation curves and real IS: 5 corruptions x 4 levels x num_samples clips",
                        40 * p.eval.num_samples * 1e-4 + 6 * p.eval.num_samples * clip_inprocess_s(), 0.5)],
        "03_tokenizer": [(f"learning curves 15 rows x {p.tokenizer_curve_steps} steps", 15 * p.tokenizer_curve_steps
                          * curve_tok + 15 * 3 * ASSUMED_EVAL_FIXED_S, 0.5),
                         (f"tokenizer {p.tokenizer.steps} steps: {tok_basis}", p.tokenizer.steps * tok_s, 0.5),
                         ("reconstructions and references, 3 benchmarks", 3 * (p.eval.num_samples
                                                                              * clip_inprocess_s() * 2 + 2), 0.3)],
        "04_commit": [("MT8 model shared (trained by 05)", 0.0, 0.0)],
        "05_decoding": [("token sets: pushbot FP, MT8, FP through the 2D-VQ", token_sets(1, len(MT8), 1), 0.5),
                        models(3),
                        (f"MaskGIT on the 2D-VQ, 1026 tokens, {0.25 * steps:.0f} steps (4x the tokens)",
                         0.25 * steps * 4 * b_step, b_gpu),
                        (f"2D-VQ tokenizer {vq2d} steps", vq2d * tok_s, 0.5), models(1),  # + MT8 s0
                        gen("commit", 2, n), gen("maskgit", 1, n), gen("ar", 1, n)],
        "06_table1": [("token set: shapes CG", token_sets(1), 0.5), models(2, "B", p.tables.table1_train_fraction),
                      models(2, "L", p.tables.table1_train_fraction), models(1, "B", p.tables.table1_train_fraction),
                      gen("commit", 4, n), gen("ar", 1, n)],
        "07_tables2_3": [("token set: scenes FP (5 frames)", token_sets(1), 0.5),
                         models(3, "B", p.tables.scenes_train_fraction),
                         gen("commit", 4, n), gen("ar", 2, n)],
        "08_table4": [("token sets: pushbot UNC, shapes MT10", token_sets(1, len(MT10)), 0.5), models(5),
                      gen("commit", 6 * len(MT8) + len(MT10), task_n)],
        "09_table5": [("token sets: prefix FP", token_sets(1), 0.5), models(7),
                      gen("commit", 9 + 4 * len(MT8), task_n)],
        "10_table7": [(f"2 seeds x (7 B-width tokenizers + 2D-VQ pretraining) x {p.tokenizer.table7_steps} steps",
                       2 * 8 * p.tokenizer.table7_steps * t7_s, 0.5),
                      (f"2 seeds x L-width tokenizer x {p.tokenizer.table7_steps} steps",
                       2 * p.tokenizer.table7_steps * t7_l, 0.6),
                      ("reconstructions of 16 models + token consistency", 16 * (p.eval.num_samples
                                                                                 * clip_inprocess_s() + 2), 0.3)],
        "11_figure5": [(f"Figure 5 timed directly: {f5_basis}", f5, 1.0)],
        "12_summary": [("tables, claims, figure", 5.0, 0.0)],
    }, {"B": b_basis, "L": l_basis}


def schedule(times: dict[str, float], gpu_share: dict[str, float], slots: int, dt: float = 0.1) -> float:
    """Wall time of notebooks started longest first on ``slots`` processes; while several run, each advances at
    1 / max(1, the sum of the running notebooks' GPU-busy shares): the GPU is then the bottleneck."""
    queue = [nb for nn in LONGEST_FIRST for nb in times if nb.startswith(nn)]
    queue += [nb for nb in times if nb not in queue]
    left: dict[str, float] = {}
    clock = 0.0
    while queue or left:
        while queue and len(left) < slots:
            nb = queue.pop(0)
            left[nb] = times[nb]
        rate = 1.0 / max(1.0, sum(gpu_share[nb] for nb in left))
        for nb in list(left):
            left[nb] -= dt * rate
            if left[nb] <= 0:
                del left[nb]
        clock += dt
    return clock


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    p = profiles.get("gpu", device="cpu")
    folder = committed_results_dir("gpu") / "h100_session"
    rates = device_rates(folder)
    parts, bases = plan(p, rates)
    rows = []
    for nb, items in parts.items():
        work = sum(s for _, s, _ in items)
        share = sum(s * g for _, s, g in items) / work if work else 0.0
        seconds = ASSUMED_NOTEBOOK_START_S + work + figures(nb) * ASSUMED_FIGURE_S
        rows.append({"notebook": f"{nb}.ipynb", "predicted_seconds": round(seconds, 1),
                     "gpu_busy_share": round(share, 2),
                     "basis": "; ".join(f"{what}: {s:.1f} s" for what, s, _ in items)
                     + f"; kernel start {ASSUMED_NOTEBOOK_START_S:.0f} s (assumed); {figures(nb)} figures x "
                       f"{ASSUMED_FIGURE_S} s (assumed)"})
    table = pd.DataFrame(rows)
    times = dict(zip(table.notebook.str[:-6], table.predicted_seconds, strict=True))
    shares = dict(zip(table.notebook.str[:-6], table.gpu_busy_share, strict=True))
    walls = [schedule({nb: t for nb, t in times.items() if first <= int(nb[:2]) <= last}, shares, args.parallel)
             for first, last in PHASES]
    phases = " + ".join(f"{first:02d}-{last:02d} {w:.0f} s" if first != last else f"{first:02d} {w:.0f} s"
                        for (first, last), w in zip(PHASES, walls, strict=True))
    table = pd.concat([table, pd.DataFrame([
        {"notebook": "TOTAL one at a time", "predicted_seconds": round(sum(times.values()), 1),
         "gpu_busy_share": np.nan, "basis": "sum of the rows"},
        {"notebook": f"TOTAL --parallel {args.parallel}", "predicted_seconds": round(sum(walls), 1),
         "gpu_busy_share": np.nan,
         "basis": f"phases one after another ({phases}); in a phase, longest first on {args.parallel} processes, "
                  "stretched by the GPU contention"},
    ])], ignore_index=True)
    table["kind"] = "PREDICTION (not measured)"
    table["transformer_steps"] = f"{bases['B']} | {bases['L']}"
    table["rates_from"] = ("results/gpu/h100_session/device.csv, gpu_profile_steps.csv, figure5_generation.csv "
                           f"({rates['device']})")
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table[["notebook", "predicted_seconds", "gpu_busy_share"]].to_string(index=False))
        print(bases["B"])
        print(bases["L"])
    table = results.blank_missing(table, ["gpu_busy_share"])
    path = results.write_table(table, "predicted_times", profile="gpu", seeds=list(p.seeds), device="prediction")
    print(f"wrote {path}")
    return table


if __name__ == "__main__":
    main()
