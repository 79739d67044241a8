"""Transformer training MFU at the profile's size, before and after, in one run (issue #15).

    .venv/bin/python benchmarks/bench_transformer_mfu.py [--profile cpu] [--threads 1] [--repeats 5]

MFU = model FLOPs per second / the hardware peak (``magvit.infra.hardware.cpu_peak``: cores x clock x 16 fp32 lanes
x 2 x 2 AVX-512 FMA units, for the threads used). Model FLOPs are counted the standard way (PaLM, Chowdhery et
al. 2022, App. B): 3 x the forward's matmul FLOPs (``magvit.experiments.cost_model.transformer_pass``: projections, MLP,
head, and attention's two matmuls); torch's FLOP counter is printed beside it: it misses the CPU flash-attention
kernel (``_scaled_dot_product_flash_attention_for_cpu``), so it undercounts. Variants, all on the same model,
data and seed:

- before: the training step of ``magvit.generative.train`` (eager, AdamW with its per-parameter loop);
- fused AdamW: ``torch.optim.AdamW(fused=True)`` (one kernel over all parameters);
- + compiled: ``torch.compile`` of the model (inductor fuses GELU, LayerNorm, residual adds and the bias adds).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch
import torch.nn.functional as F

from magvit import profiles
from magvit.experiments import cost_model
from magvit.generative.train import param_groups
from magvit.generative.transformer import Transformer, Vocabulary
from magvit.infra.hardware import best_time, count_flops, cpu_peak, matmul_gflops


def make_step(cfg, codebook: int, seq: int, batch: int, fused: bool, compiled: bool):
    torch.manual_seed(0)
    model = Transformer(cfg, Vocabulary(codebook), seq)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=1e-4, fused=fused or None)
    forward = torch.compile(model) if compiled else model
    tokens = torch.randint(0, codebook, (batch, seq))
    targets = torch.randint(0, codebook, (batch, seq))

    def step() -> None:
        loss = F.cross_entropy(forward(tokens).flatten(0, 1), targets.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return model, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    p = profiles.get(args.profile, device="cpu")
    cfg, codebook = p.transformer, p.tokenizer.codebook_size
    t, r = p.data.num_frames, p.data.resolution
    seq = 2 + (t // 4) * (r // 4) * (r // 4)  # the 3D-VQ's 4x4x4 compression (paper Sec. 3.1)
    peak = cpu_peak(cores=args.threads)
    matmul = matmul_gflops()
    model_flops = 3 * cost_model.transformer_pass(cfg, cfg.batch_size, seq, 0, codebook).flops
    print(f"profile {p.name}: torch {torch.__version__}, {args.threads} thread(s); hardware peak {peak.gflops:.0f} "
          f"GFLOP/s ({peak.assumption}); measured 1024^3 fp32 matmul {matmul:.1f} GFLOP/s "
          f"({100 * matmul / peak.gflops:.0f}% of peak)")
    rows = []
    for name, fused, compiled in [("before (eager, AdamW loop)", False, False), ("fused AdamW", True, False),
                                  ("fused AdamW + torch.compile", True, True)]:
        _, step = make_step(cfg, codebook, seq, cfg.batch_size, fused, compiled)
        t0 = time.perf_counter()
        step()  # compiles when asked
        first = time.perf_counter() - t0
        counted = count_flops(step) if not compiled else float("nan")
        seconds = best_time(step, args.repeats)
        rows.append({"variant": name, "layers": cfg.num_layers, "hidden": cfg.hidden, "seq_len": seq,
                     "batch": cfg.batch_size, "first_step_s": round(first, 2), "s_per_step": round(seconds, 4),
                     "GFLOP_standard": round(model_flops / 1e9, 2), "GFLOP_torch_counter": round(counted / 1e9, 2),
                     "GFLOP/s": round(model_flops / seconds / 1e9, 1),
                     "MFU_%_of_hw_peak": round(100 * model_flops / seconds / 1e9 / peak.gflops, 1),
                     "%_of_matmul_rate": round(100 * model_flops / seconds / 1e9 / matmul, 1)})
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
