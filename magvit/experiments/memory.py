"""Training memory per GPU of the ``paper`` profile's models (the table in docs/scale-out.md).

Parameters, gradients and Adam's two moments are fp32 (16 bytes per parameter; the tokenizer's EMA copy adds 4);
activations are the tensors autograd saves for the backward pass, summed while the forward runs on the meta
device (no memory, no compute; ``torch.autograd.graph.saved_tensors_hooks``). Saved tensors that share storage
are counted once each time they are saved, so this slightly overcounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch

from magvit import profiles
from magvit.config import DataConfig, TokenizerConfig, TransformerConfig
from magvit.generative.transformer import Transformer, Vocabulary, transformer_b, transformer_l
from magvit.tokenizer.discriminator import Discriminator
from magvit.tokenizer.model import build_tokenizer


def saved_bytes(fn: Callable[[], torch.Tensor]) -> int:
    """Bytes of the tensors autograd saves while ``fn()`` runs (call it on meta tensors)."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return total


def transformer_memory(cfg: TransformerConfig, codebook: int, seq: int, batch: int) -> dict[str, float]:
    """GB per GPU: parameters + grads + Adam, and activations of one forward at ``batch`` x ``seq``."""
    with torch.device("meta"):
        model = Transformer(cfg, Vocabulary(codebook), seq)
        model.check_tokens = lambda *args: None  # reads token values, which meta tensors do not have
        tokens = torch.zeros(batch, seq, dtype=torch.long)
        acts = saved_bytes(lambda: model(tokens))
    params = sum(p.numel() for p in model.parameters())
    return {"params_M": params / 1e6, "weights_grads_adam_GB": 16 * params / 1e9, "activations_GB": acts / 1e9}


def tokenizer_memory(cfg: TokenizerConfig, num_frames: int, resolution: int, batch: int) -> dict[str, float]:
    """GB per GPU of the 3D-VQ + discriminator step: G's forward, D on the reconstruction, D on real and fake,
    R1's double backward (counted as a second D forward on real)."""
    data = DataConfig(num_frames=num_frames, resolution=resolution)
    with torch.device("meta"):
        generator, disc = build_tokenizer(cfg, data), Discriminator(cfg, data)
        generator.check_input = lambda video: None  # reads values, which meta tensors do not have
        video = torch.zeros(batch, 3, num_frames, resolution, resolution, requires_grad=True)
        g_acts = saved_bytes(lambda: generator(video)[0])
        d_acts = saved_bytes(lambda: disc(video))
    g_params = sum(p.numel() for p in generator.parameters())
    d_params = sum(p.numel() for p in disc.parameters())
    return {"params_M": (g_params + d_params) / 1e6,
            "weights_grads_adam_GB": (20 * g_params + 16 * d_params) / 1e9,  # + the generator's EMA copy
            "activations_GB": (g_acts + 4 * d_acts) / 1e9}


def checkpointed(activations_gb: float, layers: int) -> float:
    """Activations with checkpointing per layer: one layer's inputs kept per layer plus one layer recomputed
    (~2 / layers of the total, a rough bound)."""
    return activations_gb * 2 / layers


def table(world_size: int = 8) -> list[dict[str, object]]:
    """The table of docs/scale-out.md: B and L at the paper's batches split over ``world_size`` GPUs, 80 GB each."""
    paper = profiles.paper()
    rows = []
    for name, cfg in (("B", transformer_b()), ("L", transformer_l())):
        batch = paper.transformer.batch_size // world_size
        m = transformer_memory(replace(cfg, dropout=0.0), 1024, 1026, batch)
        rows.append({"model": f"MAGVIT-{name} transformer", "per_gpu_batch": batch, **m, "layers": cfg.num_layers})
    for name, filters in (("B", 64), ("L", 128)):
        cfg = replace(paper.tokenizer, filters=filters, discriminator_filters=filters)
        batch = paper.tokenizer.batch_size // world_size
        m = tokenizer_memory(cfg, 16, 128, batch)
        rows.append({"model": f"MAGVIT-{name} 3D-VQ + discriminator", "per_gpu_batch": batch, **m, "layers": 8})
    for row in rows:
        total = row["weights_grads_adam_GB"] + row["activations_GB"]
        row["total_GB"] = total
        row["fits_80GB"] = total < 80
        row["with_checkpointing_GB"] = row["weights_grads_adam_GB"] + checkpointed(row["activations_GB"], row["layers"])
    return rows
