"""Transformer training throughput, old path vs new (the token-set path): steps per second of one optimisation step

- **stream**: the `cpu` profile's path (``magvit.generative.train.make_step_fn``): every step draws fresh clips on
  the loop's thread, builds V~, tokenises V and V~ through the frozen tokenizer (the token memo off: a stream never
  repeats), checks the ids on the host and reads the losses back (``.item()``);
- **tokens**: the `gpu` profile's path (``make_token_step_fn``): ids of a finite set tokenised once, clips and tasks
  drawn on the device, condition tokens built there, losses left on the device (``fit`` reads them back every 50
  steps; here once at the end); on a GPU also with bf16 autocast and fused AdamW.

    PYTHONPATH=$PWD python benchmarks/bench_transformer_paths.py [--profile cpu] [--batch 12] [--steps 20]

At the `cpu` profile's B (4 x 128) on this CPU, and at the `gpu` profile's B at batch 64 on a GPU (the target:
150 steps per second or more; 13 measured for the old path on an H200). The tokenizer is untrained (speed does not
depend on the weights). Writes ``bench_transformer_paths.csv`` to ``$MAGVIT_RESULTS`` or the profile's results
folder's ``diagnostics/``, and prints it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from magvit import profiles
from magvit.generative import token_memo
from magvit.generative.model import GenerativeConfig, MaskedVideoModel, build_transformer
from magvit.generative.token_set import token_set
from magvit.generative.train import make_step_fn, make_token_step_fn, param_groups
from magvit.infra import results
from magvit.infra.hardware import synchronize
from magvit.infra.paths import results_dir
from magvit.tokenizer.model import build_tokenizer


def model_for(profile, dataset: str, tasks: tuple[str, ...], batch: int, fused: bool):
    cfg = replace(profile.transformer, batch_size=batch)
    gcfg = GenerativeConfig(transformer=cfg, tokenizer=profile.tokenizer, data=profile.data, dataset=dataset,
                            tasks=tasks)
    torch.manual_seed(0)
    tokenizer = build_tokenizer(profile.tokenizer, profile.data).to(profile.device).eval()
    transformer = build_transformer(gcfg, tokenizer.codebook_size, tuple(tokenizer.latent_shape)).to(profile.device)
    model = MaskedVideoModel(gcfg, tokenizer, transformer)
    opt = torch.optim.AdamW(param_groups(transformer, cfg.weight_decay), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                            **({"fused": True} if fused else {}))
    return model, opt


def rate(step_fn, steps: int, warmup: int, device: str) -> float:
    """Steps per second of ``step_fn`` over ``steps`` steps after ``warmup``; device losses read back once."""
    for s in range(warmup):
        step_fn(s)
    synchronize(device)
    t0 = time.perf_counter()
    logs = [step_fn(warmup + s) for s in range(steps)]
    float(logs[-1]["loss"])  # the last step's loss on the host: every queued kernel has run
    synchronize(device)
    return steps / (time.perf_counter() - t0)


def syncs_per_step(step_fn, step: int, device: str) -> float:
    """Host synchronisations one step makes on a GPU (``torch.cuda.set_sync_debug_mode("warn")`` warns at each;
    NaN on a CPU). Reading the losses back is not counted: ``fit`` does it once every 50 steps."""
    if torch.device(device).type != "cuda":
        return float("nan")
    synchronize(device)
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            step_fn(step)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for w in caught:
        print(f"  sync: {str(w.message).splitlines()[0][:100]} ({Path(w.filename).name}:{w.lineno})")
    return float(sum("synchroniz" in str(w.message) for w in caught))


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--batch", type=int, default=None, help="default: the profile's transformer batch")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--clips", type=int, default=256, help="clips of the finite token set")
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--tasks", nargs="+", default=["CG", "FP"])
    args = parser.parse_args(argv)
    profile = profiles.get(args.profile)
    device, batch, tasks = profile.device, args.batch or profile.transformer.batch_size, tuple(args.tasks)
    cuda = torch.device(device).type == "cuda"
    token_memo.DISK = False  # the stream never repeats a clip: its memo would only miss
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["MAGVIT_CACHE"] = cache  # the token set is built here, then thrown away
        model, opt = model_for(profile, args.dataset, tasks, batch, fused=False)
        for bf16 in (False, True) if cuda else (False,):
            token_memo.clear()
            step = make_step_fn(model, opt, device, bf16=bf16)
            rows.append({"path": "stream (cpu profile)", "bf16": bf16, "fused_adamw": False,
                         "steps_per_s": rate(step, args.steps, args.warmup, device),
                         "host_syncs_per_step": syncs_per_step(step, 10**6, device)})
        t0 = time.perf_counter()
        tokens = token_set(model.tokenizer, args.dataset, tasks, args.clips, profile.data.num_frames,
                           profile.data.resolution, workers=profile.speed.workers, device=device)
        build_s = time.perf_counter() - t0
        for bf16, fused in ((False, False), (True, True)) if cuda else ((False, False),):
            model, opt = model_for(profile, args.dataset, tasks, batch, fused=fused)
            step = make_token_step_fn(model, opt, tokens, bf16)
            rows.append({"path": "token ids (gpu profile)", "bf16": bf16, "fused_adamw": fused,
                         "steps_per_s": rate(step, args.steps, args.warmup, device),
                         "host_syncs_per_step": syncs_per_step(step, 10**6, device)})
    table = pd.DataFrame(rows)
    table["speed_up_vs_stream_fp32"] = table["steps_per_s"] / table["steps_per_s"].iloc[0]
    table = table.assign(layers=profile.transformer.num_layers,
                         hidden=profile.transformer.hidden, batch=batch, dataset=args.dataset, tasks="+".join(tasks),
                         token_set_clips=args.clips, token_set_build_s=round(build_s, 2),
                         device_name=torch.cuda.get_device_name(device) if cuda else "cpu",
                         threads=torch.get_num_threads())
    table["steps_per_s"] = table["steps_per_s"].round(2)
    table["speed_up_vs_stream_fp32"] = table["speed_up_vs_stream_fp32"].round(2)
    print(table.to_string(index=False))
    folder = Path(os.environ["MAGVIT_RESULTS"]) if os.environ.get("MAGVIT_RESULTS") else \
        results_dir(profile.name) / "diagnostics"
    os.environ["MAGVIT_RESULTS"] = str(folder)
    table = results.blank_missing(table, ["host_syncs_per_step"])  # NaN on a CPU
    path = results.write_table(table, "bench_transformer_paths", profile=profile.name, seeds=0, device=device)
    print(f"wrote {path}")
    return table


if __name__ == "__main__":
    main()
