"""Transformer training MFU at the profile's size, before and after, in one run.

    .venv/bin/python benchmarks/bench_transformer_mfu.py [--profile cpu] [--threads 2] [--repeats 7] [--profile-ops]

MFU = model FLOPs per second / the hardware peak (``magvit.infra.hardware.cpu_peak``: cores x clock x 16 fp32 lanes
x 2 x 2 AVX-512 FMA units, for the threads used). Model FLOPs are counted the standard way (PaLM, Chowdhery et
al. 2022, App. B): 3 x the forward's matmul FLOPs (``magvit.experiments.cost_model.transformer_pass``: projections, MLP,
head, and attention's two matmuls); torch's FLOP counter is printed beside it: it misses the CPU flash-attention
kernel (``_scaled_dot_product_flash_attention_for_cpu``), so it undercounts. Variants, all on the same model
weights, data and seed, timed round-robin (one step of each in turn, best of ``--repeats``) so that load from other
processes hits them alike:

- before: the training step of ``magvit.generative.train`` (eager, AdamW with its per-parameter loop);
- fused AdamW: ``torch.optim.AdamW(fused=True)`` (one kernel over all parameters);
- + compiled: ``torch.compile(fullgraph=True, dynamic=False)`` of forward + loss (inductor fuses GELU, LayerNorm,
  residual and bias adds, log-softmax; token ids are checked eagerly, so there is no graph break), default mode
  and ``max-autotune-no-cudagraphs``;
- batch x2: the best variant at twice the batch (bigger GEMMs; a reported variant, not a config change).

Also printed: the **GEMM ceiling**, the step time if every non-GEMM op cost nothing: each matmul of the step
(forward, input and weight gradients, exact shapes) timed alone in its fastest layout, plus attention alone (the
CPU flash kernel, and its six matmuls as plain ``bmm``), and the MFU that ceiling implies. ``--profile-ops``: a
``torch.profiler`` breakdown of the step's self CPU time by op group, for the first and the best variant.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from collections.abc import Callable

import pandas as pd
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function

from magvit import profiles
from magvit.config import TransformerConfig
from magvit.experiments import cost_model
from magvit.generative.train import param_groups
from magvit.generative.transformer import Transformer, Vocabulary
from magvit.infra.hardware import best_time, count_flops, cpu_peak, matmul_gflops

PHASES = ("forward", "backward", "optimizer")
MATMUL_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"}
# ops that do arithmetic over activations (the compiled graph's own self time is inductor's fused kernels)
ELEMENTWISE = re.compile(r"gelu|norm|softmax|nll|cross_entropy|add|mul|sub|div|sum|copy|cat|embedding|fill|zero|"
                         r"clone|index|where|mean|tanh|exp|dropout|CompiledFxGraph")


def make_step(cfg: TransformerConfig, codebook: int, seq: int, batch: int, fused: bool,
              compile_mode: str | None) -> Callable[[], None]:
    """One training step (forward, cross-entropy, backward, AdamW), marked by phase for the profiler."""
    torch.manual_seed(0)
    model = Transformer(cfg, Vocabulary(codebook), seq)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=1e-4, fused=fused or None)
    tokens = torch.randint(0, codebook, (batch, seq))
    targets = torch.randint(0, codebook, (batch, seq))

    def loss_fn(tokens: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(tokens).flatten(0, 1), targets.flatten())

    if compile_mode is not None:
        model.check_tokens(tokens)  # the compiled graph skips the host read of the ids (Transformer.check_tokens)
        loss_fn = torch.compile(loss_fn, fullgraph=True, dynamic=False,
                                mode=None if compile_mode == "default" else compile_mode)

    def step() -> None:
        with record_function("forward"):
            loss = loss_fn(tokens, targets)
        with record_function("backward"):
            loss.backward()
        with record_function("optimizer"):
            opt.step()
            opt.zero_grad(set_to_none=True)

    return step


def op_group(name: str, phase: str) -> str:
    if phase == "optimizer":
        return "optimizer"
    if name in MATMUL_OPS:
        return f"matmul {phase}"
    if "scaled_dot_product" in name:
        return f"attention {phase}"
    return "elementwise/norm/GELU/softmax/CE" if ELEMENTWISE.search(name) else "other (views, dispatch, Python)"


def profile_ops(step: Callable[[], None], steps: int = 3, top: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Self CPU time per op group and the top ops, per step, from ``torch.profiler`` over ``steps`` steps.

    Each op is put in the phase (forward/backward/optimizer) of the ``record_function`` range above it; time not
    inside any op (Python between ops, the phase ranges' own self time) counts as "other"."""
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        wall = (time.perf_counter() - t0) / steps
    groups: dict[str, float] = defaultdict(float)
    ops: dict[tuple[str, str], float] = defaultdict(float)
    for e in prof.events():
        parent, phase = e, None
        while parent is not None and phase is None:
            phase = parent.name if parent.name in PHASES else None
            parent = parent.cpu_parent
        seconds = e.self_cpu_time_total / 1e6 / steps
        group = "other (views, dispatch, Python)" if e.name in PHASES or phase is None else op_group(e.name, phase)
        groups[group] += seconds
        ops[(e.name, group)] += seconds
    groups["other (views, dispatch, Python)"] += max(0.0, wall - sum(groups.values()))  # untraced time
    table = pd.DataFrame([{"group": g, "ms_per_step": round(1e3 * s, 1), "%_of_step": round(100 * s / wall, 1)}
                          for g, s in sorted(groups.items(), key=lambda kv: -kv[1])])
    top_ops = pd.DataFrame([{"op": n[:60], "group": g, "ms_per_step": round(1e3 * s, 2),
                             "%_of_step": round(100 * s / wall, 1)}
                            for (n, g), s in sorted(ops.items(), key=lambda kv: -kv[1])[:top]])
    return table, top_ops


def fastest_matmul_s(m: int, k: int, n: int, batch: int = 0, repeats: int = 10) -> float:
    """Best time of one [m, k] x [k, n] product (``batch`` > 0: a bmm) over the four layouts (either operand
    stored transposed), i.e. the best rate torch reaches at that shape."""
    lead = (batch,) if batch else ()
    best = float("inf")
    for a_t in (False, True):
        for b_t in (False, True):
            a = torch.randn(*lead, k, m).transpose(-1, -2) if a_t else torch.randn(*lead, m, k)
            b = torch.randn(*lead, n, k).transpose(-1, -2) if b_t else torch.randn(*lead, k, n)
            best = min(best, best_time(lambda a=a, b=b: torch.matmul(a, b), repeats))
    return best


def gemm_ceiling(cfg: TransformerConfig, codebook: int, seq: int, batch: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """The step's matmuls timed alone (forward, input grad, weight grad of every linear; attention as the flash
    kernel and as six bmm), summed: the step time if every other op were free."""
    m_rows, d, mlp, heads = batch * seq, cfg.hidden, cfg.mlp, cfg.heads
    linears = [("qkv", d, 3 * d, cfg.num_layers), ("attn out", d, d, cfg.num_layers), ("fc1", d, mlp, cfg.num_layers),
               ("fc2", mlp, d, cfg.num_layers), ("head dense", d, d, 1), ("logits", d, codebook, 1)]
    rows = []
    for name, fan_in, fan_out, count in linears:  # y = x W^T; dx = dy W; dW = dy^T x
        for part, (m, k, n) in [("fwd", (m_rows, fan_in, fan_out)), ("dX", (m_rows, fan_out, fan_in)),
                                ("dW", (fan_out, m_rows, fan_in))]:
            rows.append({"gemm": f"{name} {part}", "shape": f"[{m},{k}]x[{k},{n}]", "count": count,
                         "GFLOP": 2 * m * k * n * count / 1e9, "s": fastest_matmul_s(m, k, n) * count})
    bh, hd = batch * heads, d // heads
    # attention: S = Q K^T, O = P V; backward dP = dO V^T, dV = P^T dO, dQ = dS K, dK = dS^T Q
    for part, (m, k, n) in [("QK^T", (seq, hd, seq)), ("PV", (seq, seq, hd)), ("dP", (seq, hd, seq)),
                            ("dV", (seq, seq, hd)), ("dQ", (seq, seq, hd)), ("dK", (seq, seq, hd))]:
        rows.append({"gemm": f"attention bmm {part}", "shape": f"{bh}x[{m},{k}]x[{k},{n}]", "count": cfg.num_layers,
                     "GFLOP": 2 * bh * m * k * n * cfg.num_layers / 1e9,
                     "s": fastest_matmul_s(m, k, n, bh) * cfg.num_layers})
    qkv = torch.randn(batch, seq, 3, heads, hd, requires_grad=True)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # the model's strided views of the fused projection
    grad = torch.randn(batch, heads, seq, hd)
    fwd = best_time(lambda: F.scaled_dot_product_attention(q, k, v), 10)
    both = best_time(lambda: F.scaled_dot_product_attention(q, k, v).backward(grad), 10)
    table = pd.DataFrame(rows)
    table["GFLOP/s"] = table["GFLOP"] / table["s"]
    linear_s = table[~table["gemm"].str.startswith("attention")]["s"].sum()
    bmm_s = table[table["gemm"].str.startswith("attention")]["s"].sum()
    sums = {"linear GEMMs": linear_s, "attention as 6 bmm": bmm_s, "attention, flash fwd": fwd * cfg.num_layers,
            "attention, flash bwd": (both - fwd) * cfg.num_layers}
    return table, sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--profile-ops", action="store_true", help="torch.profiler breakdown by op group")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    p = profiles.get(args.profile, device="cpu")
    cfg, codebook = p.transformer, p.tokenizer.codebook_size
    t, r = p.data.num_frames, p.data.resolution
    seq = 2 + (t // 4) * (r // 4) * (r // 4)  # the 3D-VQ's 4x4x4 compression (paper Sec. 3.1)
    peak = cpu_peak(cores=args.threads)
    matmul = matmul_gflops()
    batch = cfg.batch_size

    def model_flops(b: int) -> int:
        return 3 * cost_model.transformer_pass(cfg, b, seq, 0, codebook).flops

    print(f"profile {p.name}: torch {torch.__version__}, {args.threads} thread(s); hardware peak {peak.gflops:.0f} "
          f"GFLOP/s ({peak.assumption}); measured 1024^3 fp32 matmul {matmul:.1f} GFLOP/s "
          f"({100 * matmul / peak.gflops:.0f}% of peak); {cfg.num_layers} layers x {cfg.hidden}, {cfg.heads} heads, "
          f"MLP {cfg.mlp}, seq {seq}, batch {batch}, codebook {codebook}: {model_flops(batch) / 1e9:.2f} GFLOP/step")

    gemms, sums = gemm_ceiling(cfg, codebook, seq, batch)
    print("\nGEMM ceiling: each matmul of one step alone, fastest layout (s = all layers)")
    print(gemms.round({"GFLOP": 3, "s": 5, "GFLOP/s": 1}).to_string(index=False))
    for label, attention in [("flash SDPA", sums["attention, flash fwd"] + sums["attention, flash bwd"]),
                             ("attention as bmm", sums["attention as 6 bmm"])]:
        ceiling = sums["linear GEMMs"] + attention
        print(f"ceiling with {label}: linear GEMMs {sums['linear GEMMs']:.4f} s + attention {attention:.4f} s = "
              f"{ceiling:.4f} s/step -> max MFU {100 * model_flops(batch) / ceiling / 1e9 / peak.gflops:.1f}% "
              "of the hardware peak")

    variants = [("before (eager, AdamW loop)", batch, False, None), ("fused AdamW", batch, True, None),
                ("fused AdamW + compile", batch, True, "default"),
                ("fused AdamW + compile max-autotune", batch, True, "max-autotune-no-cudagraphs"),
                (f"batch {2 * batch}: fused AdamW", 2 * batch, True, None),
                (f"batch {2 * batch}: fused AdamW + compile", 2 * batch, True, "default")]
    steps, rows = {}, {}
    for name, b, fused, mode in variants:
        steps[name] = make_step(cfg, codebook, seq, b, fused, mode)
        t0 = time.perf_counter()
        steps[name]()  # compiles when asked
        rows[name] = {"variant": name, "batch": b, "first_step_s": round(time.perf_counter() - t0, 2),
                      "GFLOP_standard": round(model_flops(b) / 1e9, 2),
                      "GFLOP_torch_counter": round(count_flops(steps[name]) / 1e9, 2) if mode is None else None}
    best = {name: float("inf") for name in steps}
    for _ in range(args.repeats):  # round-robin, so load from other processes hits every variant alike
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - t0)
    for name, b, _, _ in variants:
        gflops = model_flops(b) / best[name] / 1e9
        rows[name].update({"s_per_step": round(best[name], 4), "GFLOP/s": round(gflops, 1),
                           "MFU_%_of_hw_peak": round(100 * gflops / peak.gflops, 1),
                           "%_of_matmul_rate": round(100 * gflops / matmul, 1)})
    print(f"\nvariants, best of {args.repeats} (round-robin)")
    print(pd.DataFrame(rows.values()).to_string(index=False))

    if args.profile_ops:
        fastest = min((n for n, b, _, _ in variants if b == batch), key=best.get)
        for name in (variants[0][0], fastest):
            table, top_ops = profile_ops(steps[name])
            print(f"\ntorch.profiler, {name}: self CPU time per step by group (shares of the profiled step)")
            print(table.to_string(index=False))
            print(top_ops.to_string(index=False))


if __name__ == "__main__":
    main()
