"""One lent GPU, one call: Figure 5 timed on the GPU, the `gpu` profile's training steps timed, and the device's
measured rates (the `device` tool lends a GPU to some sessions for 15 minutes, too little for the whole
`gpu` study, which the profile sizes for 30 minutes on an H100).

    MAGVIT_RESULTS=<folder> python benchmarks/gpu_session.py [--profile gpu] [--parts figure5 training]

Writes, under ``$MAGVIT_RESULTS`` (default ``results/<profile>/``):

- ``device.csv``: the GPU, its measured fp32 and bf16 matmul rates, copy bandwidth and launch interval, and the
  host's cores;
- ``figure5_generation.csv``, ``figure5_ar_steps.csv``: notebook 11's table timed on the GPU in fp32 and with the
  networks cast to bf16 (``magvit.experiments.figure5.measure``), with the cost model's predictions from the rates
  measured here and from the H100 datasheet;
- ``claims_figure5.csv``: C8 judged on the GPU measurements (MAGVIT-B, 128 x 128, batch 1, as the paper);
- ``gpu_profile_steps.csv``: one training step of the profile's tokenizer and transformers (s / step, MFU), and how
  fast the host generates the procedural clips, turned into minutes per trained model;
- ``figures/11_figure5_gpu.png``.

Each part runs on its own: a part that fails prints its traceback and the others still write their files.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import traceback
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from magvit import data, profiles
from magvit.config import Profile
from magvit.experiments import cost_model, figure5
from magvit.generative.train import param_groups
from magvit.generative.transformer import Transformer, Vocabulary
from magvit.infra import hardware, results
from magvit.infra.artifacts import ArtifactStore
from magvit.tokenizer.train import setup_training, tokenizer_batch

PRECISIONS = {"fp32": None, "bfloat16": torch.bfloat16}


def device_rates(device: str) -> dict[str, object]:
    """The GPU's measured ceilings: fp32 and bf16 matmul (8192^3; 1024^3 on a CPU), copy bandwidth (1 GiB),
    launch interval."""
    n = 8192 if device.startswith("cuda") else 1024
    props = torch.cuda.get_device_properties(device) if device.startswith("cuda") else None
    return {"device_name": props.name if props else "cpu", "multiprocessors": props.multi_processor_count if props
            else 0, "memory_gib": round(props.total_memory / 2**30, 1) if props else 0.0,
            "matmul_fp32_gflops": round(hardware.matmul_gflops(n, 10, device), 1),
            "matmul_bf16_gflops": round(hardware.matmul_gflops(n, 10, device, torch.bfloat16), 1),
            "tf32_matmul_allowed": torch.backends.cuda.matmul.allow_tf32,
            "copy_bandwidth_gbs": round(hardware.memory_bandwidth_gbs(1024, 10, device), 1),
            "launch_interval_us": round(hardware.op_overhead_s(5000, device) * 1e6, 2),
            "host_cores": len(os.sched_getaffinity(0)), "torch": torch.__version__}


def figure5_part(p: Profile, rates: dict[str, object]) -> None:
    """Notebook 11's measurements on this device in fp32 and bf16, predictions beside them, and C8."""
    tables, ar_steps, claims = [], [], []
    for precision, amp in PRECISIONS.items():
        t0 = time.perf_counter()
        measured, steps = figure5.measure(p, dtype=amp)
        rate = rates["matmul_fp32_gflops" if amp is None else "matmul_bf16_gflops"]
        here = cost_model.Hardware("device", f"{rates['device_name']}, {precision}, measured rates",
                                   float(rate) * 1e9, float(rates["copy_bandwidth_gbs"]) * 1e9,
                                   4 if amp is None else 2, float(rates["launch_interval_us"]) * 1e-6,
                                   "measured in this run", static_kv_cache=False)
        table = figure5.predict(measured, p, [here, cost_model.H100_SXM_BF16, cost_model.H100_SXM_FP32])
        tables.append(table)
        ar_steps.append(steps.assign(precision=precision))
        model = table["model"].iloc[0]
        res, batch = (128, 1) if p.figure5.paper_size else (p.figure5.resolutions[0], p.figure5.batches[0])
        settings = [(f"measured, {rates['device_name']} ({precision})", "transformer_s_per_clip",
                     "decode_s_per_clip"),
                    (f"predicted from the rates measured on {rates['device_name']} ({precision})",
                     "pred_device_transformer_s", "pred_device_decode_s")]
        if amp is not None:
            settings.append(figure5.C8_SETTINGS[1])  # the H100 datasheet prediction, as notebook 11 makes it
        claims.append(figure5.c8_claims(table, res, batch, p.data.num_frames, model, tuple(settings)))
        print(f"figure 5 in {precision}: {time.perf_counter() - t0:.0f} s", flush=True)
        write_figure5(p, tables, ar_steps, claims, rates["device_name"])  # after each precision: a timeout keeps it
    table = pd.concat(tables, ignore_index=True)
    shown = table[(table["batch"] == 1) & (table["model"] == table["model"].iloc[0])]
    print(shown[["resolution", "precision", "decoder", "transformer_s_per_clip", "decode_s_per_clip",
                 "pred_device_transformer_s"]].to_string(index=False))
    with pd.option_context("display.max_colwidth", 90, "display.width", 200):
        print(pd.concat(claims, ignore_index=True)[["setting", "ours", "verdict"]].to_string(index=False))
    plot_figure5(p, table, rates["device_name"])


def write_figure5(p: Profile, tables: list[pd.DataFrame], ar_steps: list[pd.DataFrame], claims: list[pd.DataFrame],
                  device: str) -> None:
    """The Figure 5 CSVs of the precisions timed so far (a cell left empty where nothing was timed: write_table
    refuses NaN)."""
    table = results.blank_missing(pd.concat(tables, ignore_index=True), figure5.MEASURED_COLUMNS)
    results.write_table(table, "figure5_generation", profile=p.name, seeds=0, device=device)
    steps = results.blank_missing(pd.concat(ar_steps, ignore_index=True), ["cache_length"])
    results.write_table(steps, "figure5_ar_steps", profile=p.name, seeds=0, device=device)
    results.write_table(pd.concat(claims, ignore_index=True), "claims_figure5", profile=p.name, seeds=0,
                        device=device)


def plot_figure5(p: Profile, table: pd.DataFrame, device: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = table[(table["model"] == table["model"].iloc[0]) & (table["batch"] == p.figure5.batches[0])]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, precision in zip(axes, PRECISIONS, strict=True):
        rows = first[first["precision"] == precision]
        if rows.empty:
            continue
        t = pd.to_numeric(rows["transformer_s_per_clip"]) / rows["frames"]
        d = pd.to_numeric(rows["decode_s_per_clip"]) / rows["frames"]
        x = np.arange(len(rows))
        ax.bar(x, t, color="tab:blue", label="transformer")
        ax.bar(x, d, bottom=t, color="tab:orange", label="3D-VQ decoder")
        ax.set_xticks(x, [f"{r}\n{k}" for r, k in zip(rows["resolution"], rows["decoder"], strict=True)], fontsize=6)
        ax.set_yscale("log")
        ax.set_ylabel("seconds per frame")
        ax.set_title(f"{rows['model'].iloc[0]}, batch {p.figure5.batches[0]}: {device}, {precision} (measured)",
                     fontsize=8)
    axes[0].legend(fontsize=7)
    results.save_figure(fig, "11_figure5_gpu", profile=p.name)
    plt.close(fig)


def transformer_step(cfg, codebook: int, seq: int, batch: int, device: str, amp, repeats: int) -> dict:
    """One AdamW step of the transformer on random tokens; model FLOPs counted the standard way (3 x forward)."""
    torch.manual_seed(0)
    model = Transformer(cfg, Vocabulary(codebook), seq).to(device)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=1e-4)
    tokens = torch.randint(0, codebook, (batch, seq), device=device)

    def step() -> None:
        with torch.autocast(torch.device(device).type, dtype=amp, enabled=amp is not None):
            loss = F.cross_entropy(model(tokens).flatten(0, 1).float(), tokens.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    seconds = figure5.best(step, repeats, device)
    flops = 3 * cost_model.transformer_pass(cfg, batch, seq, codebook_size=codebook).flops
    return {"s_per_step": seconds, "TFLOP_per_step": flops / 1e12, "achieved_tflops": flops / seconds / 1e12}


def training_part(p: Profile, rates: dict[str, object], store: ArtifactStore) -> None:
    """Training-step times of the profile's networks on this device, and the host's clip generation rate."""
    device, rows = p.device, []
    seq = 2 + (p.data.num_frames // 4) * (p.data.resolution // 4) ** 2  # the 3D-VQ's 4x4x4 compression
    codebook = p.tokenizer.codebook_size
    for name, cfg in [("transformer B (profile)", p.transformer), ("transformer L (tables)", p.tables.large)]:
        for precision, amp in PRECISIONS.items():
            row = transformer_step(cfg, codebook, seq, cfg.batch_size, device, amp, 5)
            peak = rates["matmul_fp32_gflops" if amp is None else "matmul_bf16_gflops"] / 1e3
            rows.append({"what": name, "precision": precision, "batch": cfg.batch_size, "steps": cfg.steps,
                         **row, "MFU_%_of_measured_matmul": 100 * row["achieved_tflops"] / float(peak)})
    real = tokenizer_batch(p.tokenizer, 0, p.data.num_frames, p.data.resolution, seed=0).to(device)
    for name, cfg in [("tokenizer (as trained: no GAN, perceptual off)", replace(p.tokenizer, perceptual_weight=0.0)),
                      ("tokenizer with GAN + R1 + LeCam", replace(p.tokenizer, perceptual_weight=0.0,
                                                                  adversarial_start=0.0))]:
        _, _, train_step = setup_training(p, cfg, seed=0, store=store)
        counter = iter(range(cfg.warmup_steps, 10**9))
        train_step(real, next(counter))
        seconds = figure5.best(lambda ts=train_step, c=counter: ts(real, next(c)), 5, device)
        rows.append({"what": name, "precision": "fp32", "batch": len(real), "steps": cfg.steps, "s_per_step": seconds})
    t0 = time.perf_counter()
    for step in range(3):  # the clips of three training steps, generated on the host as get_tokenizer does
        tokenizer_batch(p.tokenizer, step, p.data.num_frames, p.data.resolution, seed=0)
    data_s = (time.perf_counter() - t0) / 3
    rows.append({"what": "procedural clips of one tokenizer batch (host, one process)", "precision": "-",
                 "batch": len(real), "steps": p.tokenizer.steps, "s_per_step": data_s})
    table = pd.DataFrame(rows)
    table["minutes_per_model"] = table["s_per_step"] * table["steps"] / 60
    # FLOPs are not counted for the tokenizer rows
    table = results.blank_missing(table.round(4), ["TFLOP_per_step", "achieved_tflops", "MFU_%_of_measured_matmul"])
    results.write_table(table, "gpu_profile_steps", profile=p.name, seeds=0, device=rates["device_name"])
    with pd.option_context("display.width", 200):
        print(table.round(3).to_string(index=False))
    clips_per_s = {}
    for name in data.BENCHMARKS:
        ds = data.load(name, "train", p.data.num_frames, p.data.resolution)
        data.get_batch(ds, range(8))  # warm caches (scikit-image photos are resized once per size)
        clips_per_s[name] = 16 / figure5.best(lambda ds=ds: data.get_batch(ds, range(100, 116)), 1)
    print("host clips/s at", f"{p.data.num_frames}x{p.data.resolution}^2:",
          {k: round(v, 1) for k, v in clips_per_s.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="gpu")
    parser.add_argument("--parts", nargs="+", choices=["figure5", "training"], default=["figure5", "training"])
    args = parser.parse_args()
    p = profiles.get(args.profile)
    print(f"profile {p.name} on {p.device}, torch {torch.__version__}", flush=True)
    rates = device_rates(p.device)
    print(rates, flush=True)
    results.write_table(pd.DataFrame([rates]), "device", profile=p.name, seeds=0, device=str(rates["device_name"]))
    store = ArtifactStore(tempfile.mkdtemp())
    parts = {"figure5": lambda: figure5_part(p, rates), "training": lambda: training_part(p, rates, store)}
    for part in (parts[name] for name in args.parts):
        t0 = time.perf_counter()
        try:
            part()
        except Exception:  # noqa: BLE001 - one part failing must not lose the others' files
            traceback.print_exc()
        print(f"part done in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
