"""Stage 2 training: the transformer on frozen tokens, multi-task (a recipe; the experiments live elsewhere).

``get_transformer(profile, dataset, tasks, condition, losses)`` trains (or loads from the artifact cache) one
transformer on top of the profile's tokenizer (``magvit.tokenizer.train.get_tokenizer``) and returns a
:class:`~magvit.generative.model.MaskedVideoModel` that conditions, generates and decodes videos. Every notebook
that wants the same model calls it with the same arguments, so models are shared.

One training step (paper Sec. 3.2, Fig. 2; official ``videogvt/train_lib/maskgvt_train_lib.py``): take clips
``range(step B, (step+1) B)`` of the training split, draw a task per example, build V~ and tokenise V and V~ in one
call, draw r ~ U(0, 1) per example and corrupt z by the ``condition`` mode (COMMIT Eq. 2, MaskGIT latent masking, or
prefix condition), and minimise the cross-entropy terms chosen by ``losses`` (Eq. 4). The ``ar`` condition trains
the same-size causal transformer by next-token prediction instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import torch
from torch import nn

from magvit import data as video_data
from magvit.config import Profile, TokenizerConfig, TransformerConfig
from magvit.generative.model import GenerativeConfig, MaskedVideoModel, build_transformer
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.distributed import ChunkedKey, run_chunks, sync_gradients
from magvit.infra.train import compound_lr, fit, set_lr
from magvit.tokenizer.train import get_tokenizer


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on dense/attention kernels only, not biases, LayerNorm or embeddings (maskgvt_train_lib.py)."""
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            (decay if isinstance(module, nn.Linear) and name == "weight" else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_step_fn(model: MaskedVideoModel, optimizer: torch.optim.Optimizer, device: str | torch.device,
                 chunks: int = 0, seed: int = 0) -> Callable[[int], dict[str, float]]:
    """One optimisation step as a pure function of ``step`` and the global torch RNG (train.fit).

    ``chunks`` > 0: the data-parallel step of ``magvit.infra.distributed`` (this rank's chunks of the batch, each
    seeded by ``(seed, step, chunk)``, gradients summed over the ranks before clipping)."""
    cfg = model.cfg
    tcfg = cfg.transformer
    train = video_data.load(cfg.dataset, "train", cfg.data.num_frames, cfg.data.resolution)

    def backward(step: int, rows: range, scale: float = 1.0) -> dict[str, float]:
        first = step * tcfg.batch_size
        video, labels = video_data.get_batch(train, range(first + rows.start, first + rows.stop))
        tasks = [cfg.tasks[i] for i in torch.randint(len(cfg.tasks), (len(rows),)).tolist()]
        cond = model.condition(video.to(device), tasks, labels["label"].to(device) if cfg.class_conditional else None)
        model.tokenizer.eval()
        terms = model.training_losses(cond)
        (terms["loss"] if scale == 1.0 else scale * terms["loss"]).backward()
        return {k: v.item() for k, v in terms.items()}

    def step_fn(step: int) -> dict[str, float]:
        lr = compound_lr(step, tcfg.lr, tcfg.warmup_steps, tcfg.steps)
        set_lr(optimizer, lr)
        optimizer.zero_grad(set_to_none=True)
        if chunks:
            logs = run_chunks(seed, step, tcfg.batch_size, chunks, lambda rows, scale: backward(step, rows, scale))
            sync_gradients(model.transformer.parameters())
        else:
            logs = backward(step, range(tcfg.batch_size))
        nn.utils.clip_grad_norm_(model.transformer.parameters(), tcfg.grad_clip)
        optimizer.step()
        return {**logs, "lr": lr}

    return step_fn


def get_transformer(profile: Profile, dataset: str = "pushbot", tasks: tuple[str, ...] | str = ("FP",),
                    condition: str = "commit", losses: str = "mask+recons+refine", *,
                    cfg: TransformerConfig | None = None, tokenizer_cfg: TokenizerConfig | None = None,
                    tokenizer_seed: int = 0, cond_frames: int = 1, seed: int = 0,
                    store: ArtifactStore | None = None) -> tuple[MaskedVideoModel, pd.DataFrame]:
    """Train (or load from the cache) a transformer on the profile's tokenizer; return (model, log).

    ``tasks``: task names (``magvit.generative.tasks.TASKS``; ``MT8`` for BAIR-style multi-task). ``condition``:
    "commit" (MAGVIT), "latent" (MaskGIT latent masking), "prefix", or "ar" (causal, same size).
    ``cfg`` / ``tokenizer_cfg`` override the profile's configs (e.g. fewer steps, the 2D-VQ).
    """
    check_seed(seed)
    check_seed(tokenizer_seed, "tokenizer_seed")
    tasks = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    gcfg = GenerativeConfig(transformer=cfg or profile.transformer, tokenizer=tokenizer_cfg or profile.tokenizer,
                            data=profile.data, dataset=dataset, tasks=tasks, condition=condition, losses=losses,
                            cond_frames=cond_frames, tokenizer_seed=tokenizer_seed)
    tokenizer, _ = get_tokenizer(profile, cfg=gcfg.tokenizer, seed=tokenizer_seed, store=store)
    tokenizer = tokenizer.to(profile.device).eval()
    chunks = profile.data_parallel.transformer_chunks
    if chunks:  # the chunked step's init must not depend on how far training the tokenizer moved the global RNG
        torch.manual_seed(seed)
    transformer = build_transformer(gcfg, tokenizer.codebook_size, tuple(tokenizer.latent_shape)).to(profile.device)
    model = MaskedVideoModel(gcfg, tokenizer, transformer)
    tcfg = gcfg.transformer
    optimizer = torch.optim.AdamW(param_groups(transformer, tcfg.weight_decay), lr=tcfg.lr,
                                  betas=(tcfg.beta1, tcfg.beta2))
    label = f"transformer {dataset} {'+'.join(tasks)} {condition}" + (f" {losses}" if condition == "commit" else "")
    log = fit("transformer", ChunkedKey(gcfg, chunks) if chunks else gcfg, seed, {"transformer": transformer},
              {"transformer": optimizer}, make_step_fn(model, optimizer, profile.device, chunks, seed), tcfg.steps,
              store=store,
              checkpoint_every=profile.checkpoint_every, device=profile.device, desc=label)
    transformer.eval()
    return model, log


def with_steps(profile: Profile, steps: int, **changes) -> TransformerConfig:
    """The profile's transformer config with another step count (and warm-up scaled to fit)."""
    base = profile.transformer
    warmup = min(base.warmup_steps, max(1, steps // 10))
    return replace(base, steps=steps, warmup_steps=warmup, **changes)

