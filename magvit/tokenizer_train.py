"""Training the tokenizer: reconstruction + GAN (+ LeCam, R1) + quantizer losses (spec Sec. 1.4, 1.6).

Generator loss = MSE(x, x^) + w_adv * softplus(-D(x^)) + w_perc * perceptual + quantizer losses.
Discriminator loss = softplus(-D(x)) + softplus(D(x^)) + w_r1 * R1(x) + w_lecam * LeCam.
G and D are updated simultaneously from one forward pass, adversarially from step 0 (paper: "trained
stably with GAN loss from the beginning"). The generator's EMA weights are the tokenizer every later
stage uses. The perceptual term is not built yet: its weight is 0 in every profile (see config).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from magvit import data
from magvit.artifacts import ArtifactStore
from magvit.config import Profile, TokenizerConfig
from magvit.discriminator import Discriminator, LeCam
from magvit.train import compound_lr, fit, set_lr
from magvit.vq import VQTokenizer, build_tokenizer


@dataclass(frozen=True)
class TokenizerKey:
    """What identifies a trained tokenizer: its config and the clips it was trained on."""

    tokenizer: TokenizerConfig
    num_frames: int
    resolution: int


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """mean_b sum |dD(x)/dx|^2 on real inputs (no 1/2, every step, as the official code); and D(x)."""
    real = real.detach().requires_grad_(True)
    logits = discriminator(real)
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean(), logits


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """Polyak averaging with the usual warm-up (decay grows as (1 + t) / (10 + t) up to ``decay``)."""
    d = min(decay, (1 + step) / (10 + step))
    for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
        pe.lerp_(pm, 1 - d)
    for be, bm in zip(ema.buffers(), model.buffers(), strict=True):
        be.copy_(bm)


def tokenizer_batch(cfg: TokenizerConfig, step: int, num_frames: int, resolution: int, seed: int) -> torch.Tensor:
    """The clips of one training step: ``cfg.dataset`` ("mix" = equal share of the three benchmarks)."""
    names = data.BENCHMARKS if cfg.dataset == "mix" else (cfg.dataset,)
    return data.mixed_batch(step, cfg.batch_size, num_frames, resolution, seed=seed, names=names)[0]


def get_tokenizer(profile: Profile, cfg: TokenizerConfig | None = None, seed: int = 0,
                  store: ArtifactStore | None = None) -> tuple[VQTokenizer, pd.DataFrame]:
    """The trained tokenizer (EMA weights, eval mode) of ``cfg`` (default: the profile's), and its loss log."""
    cfg = cfg or profile.tokenizer
    dev = profile.device
    key = TokenizerKey(cfg, profile.data.num_frames, profile.data.resolution)
    torch.manual_seed(seed)
    generator = build_tokenizer(cfg, profile.data).to(dev)
    ema = copy.deepcopy(generator).requires_grad_(False)
    disc = Discriminator(cfg, profile.data).to(dev)
    lecam = LeCam().to(dev)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

    def step_fn(step: int) -> dict[str, float]:
        real = tokenizer_batch(cfg, step, profile.data.num_frames, profile.data.resolution, seed).to(dev)
        lr = compound_lr(step, cfg.lr, cfg.warmup_steps, cfg.steps)
        set_lr(opt_g, lr)
        set_lr(opt_d, lr)
        recon, _, q_losses = generator(real)
        # generator: reconstruction + non-saturating adversarial + quantizer terms
        recon_loss = F.mse_loss(recon, real)
        adv = F.softplus(-disc(recon)).mean() if cfg.adversarial_weight > 0 else recon.new_zeros(())
        g_loss = recon_loss + cfg.adversarial_weight * adv + sum(q_losses.values())
        # discriminator: BCE + R1 on reals + LeCam
        if cfg.adversarial_weight > 0:
            r1, logits_real = r1_penalty(disc, real)
            logits_fake = disc(recon.detach())
            lecam_loss = lecam(logits_real, logits_fake)
            d_loss = (F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()
                      + cfg.r1_weight * r1 + cfg.lecam_weight * lecam_loss)
        opt_g.zero_grad()
        g_loss.backward(inputs=list(generator.parameters()))
        opt_g.step()
        logs = {"loss": g_loss.item(), "recon": recon_loss.item(), "adversarial": adv.item(),
                **{k: v.item() for k, v in q_losses.items()}}
        if cfg.adversarial_weight > 0:
            opt_d.zero_grad()
            d_loss.backward(inputs=list(disc.parameters()))
            opt_d.step()
            lecam.update(logits_real, logits_fake)
            logs.update({"disc": d_loss.item(), "r1": r1.item(), "lecam": lecam_loss.item()})
        ema_update(ema, generator, cfg.ema_decay, step)
        return logs

    log = fit(f"tokenizer_{cfg.kind}", key, seed,
              {"generator": generator, "ema": ema, "discriminator": disc, "lecam": lecam},
              {"g": opt_g, "d": opt_d}, step_fn, cfg.steps, store=store,
              checkpoint_every=profile.checkpoint_every, device=dev, desc=f"tokenizer ({cfg.kind})")
    return ema.eval(), log


@torch.no_grad()
def reconstruct(tokenizer: VQTokenizer, video: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """encode -> decode -> clip to [0, 1], in batches (for evaluation)."""
    out = [tokenizer.decode(tokenizer.encode(video[i:i + batch_size])).clamp(0, 1)
           for i in range(0, video.shape[0], batch_size)]
    return torch.cat(out)


def codebook_usage(ids: torch.Tensor, codebook_size: int) -> dict[str, float]:
    """Fraction of codes used and the perplexity of the code distribution over ``ids``."""
    counts = torch.bincount(ids.flatten(), minlength=codebook_size).double()
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return {"codes_used": float((counts > 0).float().mean()), "perplexity": float(entropy.exp())}
