"""Transformer benchmark: training-step time and MFU, and COMMIT vs KV-cached AR generation time.

    .venv/bin/python benchmarks/bench_transformer.py [--profile cpu] [--repeats 5]

1. One optimisation step (forward + backward + AdamW) of the profile's transformer on random tokens
   at the profile's sequence length (3D-VQ: 2 + t*h*w; 2D-VQ: 2 + T*h*w), with model FLOPs counted
   by torch's FLOP counter and MFU against the fp32 matmul peak measured here.
2. Generating one batch of visual tokens with the same-size transformer: COMMIT decoding (K = 12
   forward passes over the whole sequence) vs autoregressive sampling with a KV cache (one new
   token per forward), measured in the same run; their time ratio per batch size.
Prints plain tables; the timings depend on whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import pandas as pd
import torch

from magvit import profiles
from magvit.generative.decoding import ar_decode, commit_decode
from magvit.generative.train import param_groups
from magvit.generative.transformer import Transformer, Vocabulary
from magvit.infra.hardware import best_time, count_flops, matmul_gflops, mfu


def train_step_row(cfg, codebook: int, seq_len: int, batch: int, repeats: int, peak: float, name: str) -> dict:
    torch.manual_seed(0)
    model = Transformer(cfg, Vocabulary(codebook), seq_len)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=1e-4)
    tokens = torch.randint(0, codebook, (batch, seq_len))
    targets = torch.randint(0, codebook, (batch, seq_len))

    def step() -> None:
        logits = model(tokens)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    flops = count_flops(step)
    seconds = best_time(step, repeats)
    return {"model": name, "layers": cfg.num_layers, "hidden": cfg.hidden, "seq_len": seq_len, "batch": batch,
            "dropout": cfg.dropout, "s_per_step": round(seconds, 4), "GFLOP_per_step": round(flops / 1e9, 2),
            "GFLOP/s": round(flops / seconds / 1e9, 1), "MFU_%": round(100 * mfu(flops, seconds, peak), 1)}


def generation_rows(cfg, codebook: int, latent: tuple[int, int, int], cond_tokens: int, batches: list[int],
                    repeats: int) -> list[dict]:
    n = latent[0] * latent[1] * latent[2]
    torch.manual_seed(0)
    vocab = Vocabulary(codebook)
    bert = Transformer(cfg, vocab, 2 + n).eval()
    causal = Transformer(cfg, vocab, 2 + n, causal=True).eval()
    rows = []
    for batch in batches:
        prefix = torch.stack([torch.full((batch,), vocab.special("TASK_FRAME_PREDICTION")),
                              torch.full((batch,), vocab.uncond_id)], dim=1)
        z_tilde = torch.randint(0, codebook, (batch, n))
        ispad = torch.ones(batch, n, dtype=torch.bool)
        ispad[:, :cond_tokens] = False
        gen = torch.Generator()
        commit_s = best_time(lambda g=gen, p=prefix, z=z_tilde, m=ispad: commit_decode(
            bert, p, z, m, steps=12, generator=g.manual_seed(0)), repeats)
        ar_s = best_time(lambda g=gen, p=prefix, z=z_tilde, c=cond_tokens: ar_decode(
            causal, p, z[:, :c], n, generator=g.manual_seed(0)), max(1, repeats // 2))
        rows.append({"batch": batch, "seq_len": 2 + n, "commit_steps": 12, "ar_steps": n - cond_tokens,
                     "commit_s": round(commit_s, 4), "ar_kv_s": round(ar_s, 4),
                     "ar_over_commit": round(ar_s / commit_s, 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    p = profiles.get(args.profile, device="cpu")
    t, r = p.data.num_frames, p.data.resolution
    latent3d = (t // 4, r // 4, r // 4)  # the 3D-VQ's 4x4x4 compression (paper Sec. 3.1)
    latent2d = (t, r // 4, r // 4)  # the per-frame 2D-VQ: 4x longer sequence
    codebook = p.tokenizer.codebook_size
    peak = matmul_gflops()
    print(f"profile {p.name}: torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"fp32 matmul peak {peak:.1f} GFLOP/s\n")

    cfg = p.transformer
    rows = [
        train_step_row(cfg, codebook, 2 + latent3d[0] * latent3d[1] * latent3d[2], cfg.batch_size, args.repeats,
                       peak, "profile, 3D-VQ tokens"),
        train_step_row(cfg, codebook, 2 + latent2d[0] * latent2d[1] * latent2d[2], cfg.batch_size,
                       max(1, args.repeats // 2), peak, "profile, 2D-VQ tokens"),
        train_step_row(replace(cfg, dropout=0.1), codebook, 2 + latent3d[0] * latent3d[1] * latent3d[2],
                       cfg.batch_size, args.repeats, peak, "profile + dropout 0.1"),
        train_step_row(replace(cfg, hidden=512, heads=8, mlp=2048, dropout=0.0), codebook,
                       2 + latent3d[0] * latent3d[1] * latent3d[2], cfg.batch_size, max(1, args.repeats // 2), peak,
                       "wider (hidden 512)"),
    ]
    print("training step (forward + backward + AdamW), MFU vs the measured matmul peak")
    print(pd.DataFrame(rows).to_string(index=False))

    cond = latent3d[1] * latent3d[2]  # frame prediction from one frame: the first latent frame is given
    print("\ngeneration of one batch, same-size transformer: COMMIT (12 steps) vs KV-cached AR")
    print(pd.DataFrame(generation_rows(cfg, codebook, latent3d, cond, [1, 8, 32], args.repeats)).to_string(index=False))


if __name__ == "__main__":
    main()
