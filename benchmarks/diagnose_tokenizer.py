"""Why the cpu-profile MAGVIT 3D-VQ stays near the mean colour: the runs behind README "Known problem".

    .venv/bin/python benchmarks/diagnose_tokenizer.py [--profile cpu] [--steps 150]

Every variant trains on the same clips as the profile's tokenizer (``tokenizer_batch``, seed 0), with
reconstruction MSE only (no VQ, no GAN: the question is whether the network can learn to reconstruct at
all), Adam lr 1e-3 (0.9, 0.99), constant lr. Reported: the MSE over the last 25 steps and the error of
each clip's mean colour, next to three reference "reconstructions" of the same clips (train mean colour,
clip mean colour, block mean over the token grid's supervoxels). Variants:

- ``decoder <norm>, oracle latent``: the MAGVIT decoder alone, fed the block means (zero-padded to the
  code dimension) as its latent: with GroupNorm (paper), BatchNorm, no normalisation;
- ``MAGVIT autoencoder <norm>``: encoder + decoder (continuous latent), GroupNorm and no normalisation;
- ``plain conv autoencoder``: 3 convolutions each way, no normalisation, no residual blocks.

Writes ``results/diagnostics/tokenizer_diagnosis.csv`` (with provenance) and prints it. Takes about
5 minutes at ``cpu`` on 2 cores.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from magvit import profiles
from magvit.experiments.learning_curves import colour_error, plain_autoencoder
from magvit.infra import results
from magvit.tokenizer.evaluate import reference_reconstructions
from magvit.tokenizer.magvit3d import Decoder, Encoder
from magvit.tokenizer.train import tokenizer_batch


def oracle_latent(video: torch.Tensor, block: tuple[int, int, int], dim: int) -> torch.Tensor:
    """The supervoxel means [B, 3, t, h, w], zero-padded to ``dim`` channels."""
    z = F.avg_pool3d(video, block)
    return torch.cat([z, z.new_zeros(z.shape[0], dim - 3, *z.shape[2:])], 1)


def run(name: str, model: nn.Module, forward, cfg, data, steps: int) -> dict:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    mse, colour = [], []
    for step in tqdm(range(steps), desc=name, mininterval=5):
        x = tokenizer_batch(cfg, step, data.num_frames, data.resolution, 0)
        recon = forward(model, x)
        loss = F.mse_loss(recon, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        mse.append(loss.item())
        colour.append(colour_error(x, recon.detach()))
    k = min(25, steps)
    return {"variant": name, "steps": steps, "mse_last25": sum(mse[-k:]) / k,
            "clip_colour_error_last25": sum(colour[-k:]) / k}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    p = profiles.get(args.profile)
    cfg, data = p.tokenizer, p.data
    s = 2 ** (len(cfg.channel_multipliers) - 1)
    block = (2 ** sum(cfg.temporal_downsample), s, s)

    # the reference points, on clips the runs never saw (steps 10_000..10_003)
    clips = torch.cat([tokenizer_batch(cfg, 10_000 + i, data.num_frames, data.resolution, 0) for i in range(4)])
    train_mean = torch.cat([tokenizer_batch(cfg, i, data.num_frames, data.resolution, 0) for i in range(8)]).mean(
        (0, 2, 3, 4))
    rows = [{"variant": f"reference: {k}", "steps": 0, "mse_last25": float((v - clips).pow(2).mean()),
             "clip_colour_error_last25": float((v.mean((2, 3, 4)) - clips.mean((2, 3, 4))).pow(2).mean())}
            for k, v in reference_reconstructions(clips, train_mean, block).items()]

    for norm in ("group", "batch", "none"):
        torch.manual_seed(0)
        decoder = Decoder(replace(cfg, norm=norm), temporal=True)
        rows.append(run(f"decoder, {norm} norm, oracle latent", decoder,
                        lambda m, x: m(oracle_latent(x, block, cfg.embedding_dim)), cfg, data, args.steps))
    for norm in ("group", "none"):
        torch.manual_seed(0)
        c = replace(cfg, norm=norm)
        ae = nn.Sequential(Encoder(c, temporal=True), Decoder(c, temporal=True))
        rows.append(run(f"MAGVIT autoencoder, {norm} norm", ae, lambda m, x: m(x), cfg, data, args.steps))
    torch.manual_seed(0)
    rows.append(run("plain conv autoencoder", plain_autoencoder(cfg.embedding_dim), lambda m, x: m(x), cfg, data,
                    args.steps))

    table = pd.DataFrame(rows)
    results.write_table(table, "diagnostics/tokenizer_diagnosis", profile=p.name, seeds=0, device="cpu")
    print(table.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
