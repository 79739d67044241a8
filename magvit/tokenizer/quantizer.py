"""The vector quantiser: nearest code, straight-through gradients, commitment/codebook losses, entropy loss.

Paper Sec. 3.1 (the 3D-VQ's codebook, 1024 codes; entropy regularisation as in the official code) and the official
``videogvt/models/vqvae.py`` (``VectorQuantizer``: squared distances to every code, the codebook loss, the
commitment loss weighted by 0.25, and an entropy loss on the softmax of negative distances at temperature 0.01).
Data initialisation and dead-code restarts are this study's scale adaptation, off by default.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


class VectorQuantizer(nn.Module):
    """Plain VQ with a learned codebook, straight-through gradients and the entropy loss (vqvae.py)."""

    def __init__(self, codebook_size: int, dim: int, commitment_weight: float = 0.25,
                 entropy_weight: float = 0.1, entropy_temperature: float = 0.01, restart_after: int = 0):
        super().__init__()
        bound = math.sqrt(3.0 / codebook_size)  # variance scaling, fan_in = codebook size
        self.codebook = nn.Parameter(torch.empty(codebook_size, dim).uniform_(-bound, bound))
        self.commitment_weight, self.entropy_weight = commitment_weight, entropy_weight
        self.entropy_temperature = entropy_temperature
        # Dead-code restarts (a scale adaptation, off in the paper/code): a code unused for ``restart_after``
        # training steps is moved onto a latent of the current batch. Buffers, so checkpoints carry them.
        self.restart_after = restart_after
        self.register_buffer("steps_unused", torch.zeros(codebook_size, dtype=torch.long))
        self.register_buffer("initialised", torch.tensor(False))

    @torch.no_grad()
    def restart_dead_codes(self, flat: torch.Tensor, ids: torch.Tensor) -> None:
        """First training step: every code becomes a random latent z of the batch (data init); later, codes
        unused for ``restart_after`` steps do. Draws from torch's global RNG, so seeded runs repeat."""
        used = torch.bincount(ids, minlength=self.codebook.shape[0]) > 0
        self.steps_unused.add_(1).masked_fill_(used, 0)
        dead = torch.ones_like(used) if not self.initialised else self.steps_unused >= self.restart_after
        self.initialised.fill_(True)
        n = int(dead.sum())
        if n == 0:
            return
        picks = torch.randint(0, flat.shape[0], (n,), device=flat.device)
        self.codebook.data[dead] = flat[picks]
        self.steps_unused[dead] = 0

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """Squared Euclidean distances [N, K] of latents x [N, D] to every code."""
        e = self.codebook
        return x.pow(2).sum(1, keepdim=True) - 2 * x @ e.t() + e.pow(2).sum(1)[None]

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """z [B, D, t, h, w] -> (z_q with straight-through gradients, ids [B, t, h, w], losses)."""
        if torch.is_autocast_enabled(z.device.type):  # nearest-code search and its losses in fp32 (bf16 training)
            with torch.autocast(z.device.type, enabled=False):
                return self.forward(z.float())
        b, _, t, h, w = z.shape
        flat = rearrange(z, "b d t h w -> (b t h w) d")
        d = self.distances(flat)
        ids = d.argmin(1)
        if self.training and self.restart_after > 0:
            self.restart_dead_codes(flat.detach(), ids)
            d = self.distances(flat)  # codes moved: assign against the new codebook
            ids = d.argmin(1)
        q = self.codebook[ids]
        losses = {
            "commitment": self.commitment_weight * F.mse_loss(flat, q.detach()),
            "codebook": F.mse_loss(q, flat.detach()),
        }
        if self.entropy_weight > 0:  # sample entropy low (confident), average entropy high (all codes used)
            logits = -d / self.entropy_temperature
            probs = logits.softmax(1)
            sample_entropy = -(probs * (logits + 1e-5).log_softmax(1)).sum(1).mean()
            avg_probs = probs.mean(0)
            avg_entropy = -(avg_probs * (avg_probs + 1e-5).log()).sum()
            losses["entropy"] = self.entropy_weight * (sample_entropy - avg_entropy)
        q = flat + (q - flat).detach()  # straight-through estimator
        z_q = rearrange(q, "(b t h w) d -> b d t h w", b=b, t=t, h=h, w=w)
        return z_q, rearrange(ids, "(b t h w) -> b t h w", b=b, t=t, h=h, w=w), losses

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, t, h, w] -> z_q [B, D, t, h, w]."""
        return rearrange(self.codebook[ids], "b t h w d -> b d t h w")
