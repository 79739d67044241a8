"""The scale-out memory table: the optimiser-state arithmetic and the activation counter on small cases."""

from __future__ import annotations

import torch

from magvit.experiments import memory


def test_saved_bytes_counts_what_autograd_saves_on_the_meta_device() -> None:
    w = torch.empty(64, 32, device="meta", requires_grad=True)

    def forward() -> torch.Tensor:
        x = torch.empty(8, 64, device="meta")
        return (x @ w).relu().sum()

    # x @ w saves x (8 x 64) for w's gradient (not w: x needs no gradient); relu saves its output (8 x 32); fp32
    assert memory.saved_bytes(forward) == 4 * (8 * 64 + 8 * 32)


def test_checkpointed_activations_shrink_with_depth() -> None:
    assert memory.checkpointed(24.0, 12) < 24.0
    assert memory.checkpointed(24.0, 24) < memory.checkpointed(24.0, 12)
