"""Tokenizer benchmark: training-step time and MFU, and encode / decode throughput.

    .venv/bin/python benchmarks/bench_tokenizer.py [--profile cpu] [--repeats 3]

1. One training step of the profile's tokenizer on random clips (generator forward + backward + Adam,
   discriminator forward + backward with R1 and LeCam, EMA), with model FLOPs counted by torch's FLOP
   counter and MFU against the hardware's fp32 peak (``magvit.infra.hardware.cpu_peak``: cores x clock x
   vector FLOPs per cycle; notebook 00 states it) and, beside it, as a share of the fp32 matmul rate measured here.
   Variants: without the GAN (reconstruction + quantizer only), with lazy R1 (every 4th step), with
   the perceptual stand-in toggled, bf16 autocast toggled (``TokenizerConfig.bf16``), half the batch, the padding
   toggled (reflect / zeros), the gradient difference term toggled, 2x filters.
2. Encode and decode clips per second (inference, batch 32).
Prints plain tables; the timings depend on whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace

import pandas as pd
import torch

from magvit import profiles
from magvit.config import Profile, TokenizerConfig
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.hardware import best_time, count_flops, cpu_peak, has_bf16, matmul_gflops, mfu
from magvit.tokenizer.train import setup_training


def train_step_row(p: Profile, cfg: TokenizerConfig, name: str, repeats: int, peak: float, matmul: float,
                   store) -> dict:
    _, _, train_step = setup_training(p, cfg, seed=0, store=store)
    real = torch.rand(cfg.batch_size, 3, p.data.num_frames, p.data.resolution, p.data.resolution)
    counter = iter(range(10**9))

    def steps() -> None:  # r1_every steps (one with R1), past the warm-up so the lr is not 0
        for _ in range(cfg.r1_every):
            train_step(real, next(counter) + cfg.warmup_steps)

    flops = count_flops(steps) // cfg.r1_every
    seconds = best_time(steps, repeats) / cfg.r1_every
    return {"variant": name, "clips": f"{p.data.num_frames}x{p.data.resolution}x{p.data.resolution}",
            "batch": cfg.batch_size, "filters": cfg.filters, "s_per_step": round(seconds, 3),
            "GFLOP_per_step": round(flops / 1e9, 1), "GFLOP/s": round(flops / seconds / 1e9, 1),
            "MFU_%_of_hw_peak": round(100 * mfu(flops, seconds, peak), 1),
            "%_of_matmul_rate": round(100 * mfu(flops, seconds, matmul), 1)}


def throughput_row(p: Profile, cfg: TokenizerConfig, batch: int, repeats: int, store) -> dict:
    modules, _, _ = setup_training(p, replace(cfg, perceptual_weight=0.0), seed=0, store=store)
    tok = modules["ema"].eval()
    video = torch.rand(batch, 3, p.data.num_frames, p.data.resolution, p.data.resolution)
    ids = tok.encode(video)
    enc = best_time(lambda: tok.encode(video), repeats)
    dec = best_time(lambda: tok.decode(ids), repeats)
    return {"tokenizer": cfg.kind, "clips": f"{p.data.num_frames}x{p.data.resolution}x{p.data.resolution}",
            "tokens": "x".join(map(str, tok.latent_shape)), "batch": batch,
            "encode_clips_per_s": round(batch / enc, 1), "decode_clips_per_s": round(batch / dec, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    p = profiles.get(args.profile, device="cpu")
    store = ArtifactStore(tempfile.mkdtemp())  # the perceptual stand-in is trained here, not in the user's cache
    hardware, matmul = cpu_peak(cores=torch.get_num_threads()), matmul_gflops()
    peak = hardware.gflops
    print(f"profile {p.name}: torch {torch.__version__}, {torch.get_num_threads()} threads, hardware peak "
          f"{peak:.0f} GFLOP/s ({hardware.assumption}), measured fp32 matmul {matmul:.1f} GFLOP/s; bf16 units "
          f"(AMX / AVX512_BF16): {'yes' if has_bf16() else 'no (bf16 runs emulated)'}\n")
    cfg = p.tokenizer
    rows = [
        train_step_row(p, cfg, "profile (as trained)", args.repeats, peak, matmul, store),
        train_step_row(p, replace(cfg, adversarial_weight=0.0), "no GAN (recon + VQ only)", args.repeats, peak, matmul,
                       store),
        train_step_row(p, replace(cfg, r1_every=4), "lazy R1 (every 4th step)", max(1, args.repeats // 2), peak,
                       matmul, store),
        train_step_row(p, replace(cfg, perceptual_weight=0.1 if cfg.perceptual_weight == 0 else 0.0),
                       "perceptual " + ("on" if cfg.perceptual_weight == 0 else "off"), args.repeats, peak, matmul,
                       store),
        # bf16 autocast (TokenizerConfig.bf16; the cpu profile trains under it): fast only with bf16 units
        train_step_row(p, replace(cfg, bf16=not cfg.bf16), "bf16 " + ("off (fp32)" if cfg.bf16 else "on"),
                       args.repeats, peak, matmul, store),
        train_step_row(p, replace(cfg, batch_size=cfg.batch_size // 2), "half the batch", args.repeats, peak, matmul,
                       store),
        # padding: reflect (the paper) pads a copy of every conv's input; zeros around an odd kernel is the conv's own
        train_step_row(p, replace(cfg, padding="zeros" if cfg.padding == "reflect" else "reflect"),
                       "padding " + ("zeros" if cfg.padding == "reflect" else "reflect"), args.repeats, peak, matmul,
                       store),
        train_step_row(p, replace(cfg, gradient_weight=0.1 if cfg.gradient_weight == 0 else 0.0),
                       "gradient difference " + ("on" if cfg.gradient_weight == 0 else "off"), args.repeats, peak,
                       matmul, store),
        train_step_row(p, replace(cfg, filters=2 * cfg.filters), "2x filters", max(1, args.repeats // 2), peak,
                       matmul, store),
    ]
    print("training step (G + D with R1 and LeCam + EMA), MFU vs the hardware's fp32 peak and the measured fp32 "
          "matmul rate (a bf16 row can exceed 100%: AMX runs bf16 faster than the fp32 peak)")
    print(pd.DataFrame(rows).to_string(index=False))
    print("\ninference throughput (EMA tokenizer, untrained weights: speed does not depend on them)")
    rows = [throughput_row(p, cfg, 32, args.repeats, store),
            throughput_row(p, replace(cfg, kind="vq2d"), 32, args.repeats, store),
            throughput_row(p, replace(cfg, kind="tats3d", padding="zeros"), 32, args.repeats, store)]
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
