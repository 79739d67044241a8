"""Training the tokenizer: reconstruction + GAN (+ LeCam, R1) + quantizer losses (paper Sec. 3.1;
official ``videogvt/train_lib/vqgan_train_lib.py``, ``videogvt/trainers/vqgan_trainer.py``).

Generator loss = MSE(x, x^) + w_adv * softplus(-D(x^)) + w_perc * perceptual + quantizer losses
(+ w_grad * gradient difference, a scale adaptation the paper does not have; ``TokenizerConfig.gradient_weight``).
Discriminator loss = softplus(-D(x)) + softplus(D(x^)) + w_r1 * R1(x) + w_lecam * LeCam.
G and D are updated simultaneously from one forward pass, adversarially from step 0 (paper: "trained
stably with GAN loss from the beginning"). The generator's EMA weights are the tokenizer every later
stage uses. The perceptual feature network is pluggable (``magvit.tokenizer.perceptual``): real weights from a
path, else a small frame network trained on the stand-in data. ``cfg.init`` = "central" / "average"
first trains the 2D-VQ of the same widths on frames (the paper's ImageNet model's role) and inflates it.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from magvit import data
from magvit.config import Profile, TokenizerConfig
from magvit.data.procedural import GENERATOR_VERSION
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.distributed import ChunkedKey, run_chunks, sync_gradients
from magvit.infra.hardware import has_bf16
from magvit.infra.train import compound_lr, fit, set_lr
from magvit.tokenizer.discriminator import Discriminator, LeCam
from magvit.tokenizer.inflate import inflate_into
from magvit.tokenizer.model import VQTokenizer, build_tokenizer
from magvit.tokenizer.perceptual import PerceptualLoss, load_feature_network


@dataclass(frozen=True)
class TokenizerKey:
    """What identifies a trained tokenizer: its config and the clips it was trained on."""

    tokenizer: TokenizerConfig
    num_frames: int
    resolution: int
    data_version: str = GENERATOR_VERSION  # the stand-ins it was trained on (their version)


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """mean_b sum |dD(x)/dx|^2 on real inputs (no 1/2, every step, as the official code); and D(x)."""
    # differentiate w.r.t. a non-leaf view of the input: same gradient, and torch's FLOP counter
    # (benchmarks) cannot hook autograd.grad on a leaf
    real = real.detach().requires_grad_(True) * 1.0
    logits = discriminator(real)
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean(), logits


def gradient_difference_loss(real: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """Mathieu et al. 2016 ("Deep multi-scale video prediction beyond mean square error", Eq. 4, alpha = 1):
    | |x_i - x_{i-1}| - |x^_i - x^_{i-1}| | averaged along each of t, h and w, the three averages summed. Blur
    shrinks |d x^|, so this penalises the smoothing that MSE prefers under uncertainty; a colour offset costs nothing
    here (MSE still sets it)."""
    loss = real.new_zeros(())
    for dim in (2, 3, 4):  # [B, 3, T, H, W]
        loss = loss + (real.diff(dim=dim).abs() - recon.diff(dim=dim).abs()).abs().mean()
    return loss


# the reconstruction term ||x - x^||: mean squared ("l2", the paper's) or mean absolute ("l1", taming's VQGAN)
RECON_LOSSES = {"l2": F.mse_loss, "l1": F.l1_loss}


def check_recon_loss(kind: str) -> None:
    if kind not in RECON_LOSSES:
        raise ValueError(f"unknown recon_loss {kind!r}; choose from {', '.join(RECON_LOSSES)}")


def pixel_loss(recon: torch.Tensor, real: torch.Tensor, kind: str) -> torch.Tensor:
    """The reconstruction term of ``kind`` (``RECON_LOSSES``) between ``recon`` and ``real``."""
    check_recon_loss(kind)
    return RECON_LOSSES[kind](recon, real)


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """Polyak averaging with the usual warm-up (decay grows as (1 + t) / (10 + t) up to ``decay``)."""
    d = min(decay, (1 + step) / (10 + step))
    for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
        pe.lerp_(pm, 1 - d)
    for be, bm in zip(ema.buffers(), model.buffers(), strict=True):
        be.copy_(bm)


def pretrained_2d(profile: Profile, cfg: TokenizerConfig, seed: int = 0,
                  store: ArtifactStore | None = None) -> VQTokenizer:
    """The 2D-VQ that initialises an inflated 3D-VQ (Tab. 7): same widths and steps, per-frame kernels,
    trained on frames of all three benchmarks (the role ImageNet plays in the paper). Its discriminator
    still sees clips; the 2D-VQ itself encodes every frame on its own."""
    cfg_2d = replace(cfg, kind="vq2d", init="scratch", dataset="mix")
    return get_tokenizer(profile, cfg_2d, seed, store)[0]


@torch.no_grad()
def recalibrate_batch_norm(tokenizer: VQTokenizer, batches: Iterable[torch.Tensor]) -> None:
    """Recompute every BatchNorm's running mean and variance of ``tokenizer`` (e.g. its EMA weights) as the
    plain average over ``batches`` of training clips [B, 3, T, H, W] (``torch.optim.swa_utils.update_bn``, with
    the quantiser in eval mode: codes are looked up, never restarted). No-op without BatchNorm."""
    norms = [m for m in tokenizer.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
        m.train()
    tokenizer.quantizer.eval()
    for video in batches:
        ids = tokenizer.quantizer(tokenizer.encoder(tokenizer.to_input(video)))[1]
        tokenizer.decoder(tokenizer.quantizer.lookup(ids))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    tokenizer.eval()


def tokenizer_batch(cfg: TokenizerConfig, step: int, num_frames: int, resolution: int, seed: int,
                    rows: range | None = None) -> torch.Tensor:
    """The clips of one training step: ``cfg.dataset`` ("mix" = equal share of the three benchmarks); ``rows``:
    only those rows of the step's batch, reading only their clips (a rank's chunk, ``magvit.infra.distributed``)."""
    names = data.BENCHMARKS if cfg.dataset == "mix" else (cfg.dataset,)
    if rows is None:
        return data.mixed_batch(step, cfg.batch_size, num_frames, resolution, seed=seed, names=names)[0]
    per = max(1, cfg.batch_size // len(names))  # mixed_batch's layout: per clips of each name, in order
    wanted = [(names[r // per], step * per + r % per) for r in rows]
    return torch.cat([data.get_batch(data.load(name, "train", num_frames, resolution, seed), [i])[0]
                      for name, i in wanted])


def global_batch_size(cfg: TokenizerConfig) -> int:
    """Clips in one step's batch (``mixed_batch`` rounds ``batch_size`` down to a multiple of the names)."""
    names = 3 if cfg.dataset == "mix" else 1
    return max(1, cfg.batch_size // names) * names


TrainStep = Callable[[torch.Tensor, int], dict[str, float]]


def setup_training(profile: Profile, cfg: TokenizerConfig, seed: int = 0, store: ArtifactStore | None = None,
                   ) -> tuple[dict[str, nn.Module], dict[str, torch.optim.Optimizer], TrainStep]:
    """Models, optimisers and ``train_step(real [B, 3, T, H, W], step) -> logs`` of one tokenizer run
    (the initialisation is seeded; ``cfg.init`` != "scratch" trains or loads the 2D-VQ first)."""
    seed = check_seed(seed)  # before anything is drawn or trained
    if not 0.0 <= cfg.adversarial_start <= 1.0:
        raise ValueError(f"adversarial_start is a share of the steps in [0, 1], got {cfg.adversarial_start}")
    dev = profile.device
    if cfg.bf16 and torch.device(dev).type == "cpu" and not has_bf16():
        warnings.warn("tokenizer bf16=True on a CPU without bf16 units (AMX / AVX512_BF16): autocast runs emulated, "
                      "slower than fp32; the profile's times assume bf16 units", stacklevel=2)
    check_recon_loss(cfg.recon_loss)  # before anything trains
    if cfg.init not in ("scratch", "central", "average"):
        raise ValueError(f"unknown init {cfg.init!r}; choose from scratch, central, average")
    if cfg.init != "scratch" and cfg.kind != "magvit3d":
        raise ValueError(f"inflation ({cfg.init}) initialises the MAGVIT 3D-VQ only, not {cfg.kind!r}")
    state_2d = pretrained_2d(profile, cfg, seed, store).state_dict() if cfg.init != "scratch" else None
    perceptual = (PerceptualLoss(load_feature_network(cfg.perceptual_network, profile, seed, store))
                  if cfg.perceptual_weight > 0 else None)
    torch.manual_seed(seed)
    generator = build_tokenizer(cfg, profile.data).to(dev)
    if state_2d is not None:
        inflate_into(generator, state_2d, cfg.init)
    ema = copy.deepcopy(generator).requires_grad_(False)
    disc = Discriminator(cfg, profile.data).to(dev)
    lecam = LeCam().to(dev)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(cfg.discriminator_beta1, cfg.beta2))
    on_device = torch.device(dev).type != "cpu"

    def backward(real: torch.Tensor, step: int, scale: float = 1.0) -> dict[str, float]:
        """Forward one (chunk of a) batch and accumulate ``scale`` x the G and D gradients; the logs carry the
        chunk's mean D logits for LeCam (``_lecam_real``, ``_lecam_fake``)."""
        with torch.autocast(torch.device(dev).type, dtype=torch.bfloat16, enabled=cfg.bf16):
            recon, _, q_losses = generator(real)
        # the losses, the frame network and the discriminator in fp32 (a no-op without bf16): GroupNorm's backward
        # in bf16 is slower on a CPU than the fp32 frame network it normalises
        recon = recon.float()
        perc = perceptual(real, recon) if perceptual is not None else recon.new_zeros(())
        gan = cfg.adversarial_weight > 0 and step >= cfg.adversarial_start * cfg.steps
        # generator: reconstruction + non-saturating adversarial + perceptual + quantizer terms
        recon_loss = pixel_loss(recon, real, cfg.recon_loss)
        gdl = gradient_difference_loss(real, recon) if cfg.gradient_weight > 0 else None
        adv = F.softplus(-disc(recon)).mean() if gan else recon.new_zeros(())
        g_loss = recon_loss + cfg.adversarial_weight * adv + cfg.perceptual_weight * perc + sum(q_losses.values())
        if gdl is not None:
            g_loss = g_loss + cfg.gradient_weight * gdl
        # discriminator: BCE + R1 on reals (every r1_every steps, scaled up to match: lazy R1) + LeCam
        if gan:
            if step % cfg.r1_every == 0:
                r1, logits_real = r1_penalty(disc, real)
            else:
                r1, logits_real = real.new_zeros(()), disc(real)
            logits_fake = disc(recon.detach())
            lecam_loss = lecam(logits_real, logits_fake)
            d_loss = (F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()
                      + cfg.r1_every * cfg.r1_weight * r1 + cfg.lecam_weight * lecam_loss)
        (g_loss if scale == 1.0 else scale * g_loss).backward(inputs=list(generator.parameters()))
        # on a GPU the logs stay on the device (fit reads them back every few steps: no host sync per step)
        value = (lambda t: t.detach()) if on_device and scale == 1.0 else (lambda t: t.item())
        logs = {"loss": value(g_loss), "recon": value(recon_loss), "perceptual": value(perc),
                "adversarial": value(adv), **{k: value(v) for k, v in q_losses.items()}}
        if gdl is not None:  # a column only where the term is on: the paper's logs stay as they were
            logs["gradient"] = value(gdl)
        if gan:
            (d_loss if scale == 1.0 else scale * d_loss).backward(inputs=list(disc.parameters()))
            logs.update({"disc": value(d_loss), "r1": value(r1), "lecam": value(lecam_loss),
                         "_lecam_real": value(logits_real.mean()), "_lecam_fake": value(logits_fake.mean())})
        elif cfg.adversarial_weight > 0:  # before adversarial_start: nothing computed (a log needs every column)
            logs.update({"disc": 0.0, "r1": 0.0, "lecam": 0.0})
        return logs

    def update(step: int, logs: dict[str, float]) -> dict[str, float]:
        """Step G and D with the accumulated gradients, update LeCam's anchors and the EMA; return the logs
        without the LeCam means."""
        lr = compound_lr(step, cfg.lr, cfg.warmup_steps, cfg.steps)
        set_lr(opt_g, lr)
        set_lr(opt_d, lr)
        opt_g.step()
        if "_lecam_real" in logs:  # the GAN ran this step (from adversarial_start on)
            opt_d.step()
            lecam.update(torch.as_tensor(logs["_lecam_real"], device=dev),
                         torch.as_tensor(logs["_lecam_fake"], device=dev))
        ema_update(ema, generator, cfg.ema_decay, step)
        opt_g.zero_grad()
        opt_d.zero_grad()
        return {k: v for k, v in logs.items() if not k.startswith("_")}

    def train_step(real: torch.Tensor, step: int) -> dict[str, float]:
        return update(step, backward(real, step))

    train_step.backward, train_step.update = backward, update  # the chunked (data-parallel) step's two halves

    modules = {"generator": generator, "ema": ema, "discriminator": disc, "lecam": lecam}
    return modules, {"g": opt_g, "d": opt_d}, train_step


def get_tokenizer(profile: Profile, cfg: TokenizerConfig | None = None, seed: int = 0,
                  store: ArtifactStore | None = None) -> tuple[VQTokenizer, pd.DataFrame]:
    """The trained tokenizer (EMA weights, eval mode) of ``cfg`` (default: the profile's), and its loss log."""
    cfg = cfg or profile.tokenizer
    key = TokenizerKey(cfg, profile.data.num_frames, profile.data.resolution)
    modules, optimizers, train_step = setup_training(profile, cfg, seed, store)
    frames, res, chunks = profile.data.num_frames, profile.data.resolution, profile.data_parallel.tokenizer_chunks
    if chunks and cfg.codebook_restart_after:
        raise ValueError("dead-code restarts (codebook_restart_after > 0) re-draw codes from the clips of one forward; "
                         "under data parallelism each chunk would draw its own and the replicas would differ. Train "
                         "chunked (Profile.data_parallel) with codebook_restart_after=0, the paper's")

    # the clips of each step, drawn ahead by profile.speed.workers processes (0: on this thread, as before)
    draw = data.StepBatches(partial(tokenizer_batch, cfg, num_frames=frames, resolution=res, seed=seed), cfg.steps,
                            0 if chunks else profile.speed.workers)

    def step_fn(step: int) -> dict[str, float]:
        if chunks:  # data parallel (torchrun): this rank's chunks, gradients summed over the ranks
            logs = run_chunks(seed, step, global_batch_size(cfg), chunks, lambda rows, scale: train_step.backward(
                tokenizer_batch(cfg, step, frames, res, seed, rows).to(profile.device), step, scale),
                buffer_modules=[modules["generator"]])
            sync_gradients([*modules["generator"].parameters(), *modules["discriminator"].parameters()])
            return train_step.update(step, logs)
        return train_step(draw(step).to(profile.device, non_blocking=True), step)

    key = ChunkedKey(key, chunks) if chunks else key

    def finish() -> None:  # the EMA's own BatchNorm statistics, from the training clips after the last step
        recalibrate_batch_norm(modules["ema"], (tokenizer_batch(cfg, cfg.steps + i, frames, res, seed).to(
            profile.device) for i in range(cfg.bn_recalibration_batches)))

    log = fit(f"tokenizer_{cfg.kind}", key, seed, modules, optimizers, step_fn, cfg.steps, store=store,
              checkpoint_every=profile.checkpoint_every, device=profile.device, desc=f"tokenizer ({cfg.kind})",
              finish=finish if cfg.bn_recalibration_batches else None)
    draw.close()
    return modules["ema"].eval(), log
