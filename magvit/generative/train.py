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

With ``Profile.speed.train_clips`` > 0 (the ``gpu`` profile) the model trains instead on a finite set of
clips tokenised once (``magvit.generative.token_set``): each step draws clips and tasks on the device
(:func:`make_token_step_fn`), optionally under bf16 autocast (``Profile.speed.bf16``), with no host synchronisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import torch
from torch import nn

from magvit import data as video_data
from magvit.config import Profile, TokenizerConfig, TransformerConfig
from magvit.generative.model import GenerativeConfig, MaskedVideoModel, build_transformer
from magvit.generative.tasks import Conditioned, is_class_conditional, prompt_id
from magvit.generative.token_set import TokenSet, token_set
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
                 chunks: int = 0, seed: int = 0, bf16: bool = False) -> Callable[[int], dict[str, float]]:
    """One optimisation step as a pure function of ``step`` and the global torch RNG (train.fit).

    ``chunks`` > 0: the data-parallel step of ``magvit.infra.distributed`` (this rank's chunks of the batch, each
    seeded by ``(seed, step, chunk)``, gradients summed over the ranks before clipping). ``bf16``: the transformer's
    forward under bfloat16 autocast (the tokenizer's encode stays in fp32)."""
    cfg = model.cfg
    tcfg = cfg.transformer
    train = video_data.load(cfg.dataset, "train", cfg.data.num_frames, cfg.data.resolution)

    def backward(step: int, rows: range, scale: float = 1.0) -> dict[str, float]:
        first = step * tcfg.batch_size
        video, labels = video_data.get_batch(train, range(first + rows.start, first + rows.stop))
        tasks = [cfg.tasks[i] for i in torch.randint(len(cfg.tasks), (len(rows),)).tolist()]
        cond = model.condition(video.to(device), tasks, labels["label"].to(device) if cfg.class_conditional else None)
        model.tokenizer.eval()
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
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


@dataclass(frozen=True)
class TokenSetKey:
    """The artifact key of a transformer trained on a finite token set and/or under bf16 autocast
    (``Profile.speed``): its config plus what changes its weights. The old streaming fp32 path keeps its key."""

    config: Any
    train_clips: int
    bf16: bool


def make_token_step_fn(model: MaskedVideoModel, optimizer: torch.optim.Optimizer, tokens: TokenSet,
                       bf16: bool = False) -> Callable[[int], dict[str, Any]]:
    """One optimisation step on a finite token set: a batch of clips and one task per example drawn on the
    device, the condition [rho, c] and ``ispad`` looked up on the device, ``bf16`` autocast around the forward; the
    losses are returned as device tensors (``fit`` reads them back every few steps). No host synchronisation.

    The same step as :func:`make_step_fn` otherwise (COMMIT Eq. 2-4; the ids of V~ are the tokenizer's ids of the
    task's condition video of the same clip), except that clips repeat (N of them) and are drawn at random."""
    cfg = model.cfg
    tcfg, vocab = cfg.transformer, model.vocab
    device = tokens.z.device
    if tokens.tasks != tuple(cfg.tasks):
        raise ValueError(f"token set of tasks {tokens.tasks} given to a model of tasks {cfg.tasks}")
    maskable = tokens.ispad.any(1).tolist()
    if cfg.condition == "latent" and not all(maskable):  # checked once here, instead of in every step
        raise ValueError("latent masking needs at least one padding position per example; tasks "
                         f"{[t for t, m in zip(cfg.tasks, maskable, strict=True) if not m]} have none")
    prompts = torch.tensor([prompt_id(t, vocab, tcfg.inpainting_token) for t in cfg.tasks], device=device)
    class_task = torch.tensor([is_class_conditional(t) for t in cfg.tasks], device=device)
    if cfg.class_conditional and (int(tokens.labels.min()) < 0 or int(tokens.labels.max()) >= vocab.num_classes):
        raise ValueError(f"class labels of the token set lie outside [0, {vocab.num_classes})")
    count, b, n_tasks = len(tokens), tcfg.batch_size, len(cfg.tasks)
    params = list(model.transformer.parameters())

    def step_fn(step: int) -> dict[str, Any]:
        lr = compound_lr(step, tcfg.lr, tcfg.warmup_steps, tcfg.steps)
        set_lr(optimizer, lr)
        optimizer.zero_grad(set_to_none=True)
        clip = torch.randint(count, (b,), device=device)
        task = torch.randint(n_tasks, (b,), device=device)
        if cfg.class_conditional:
            classes = torch.where(class_task[task], tokens.labels[clip] + vocab.codebook_size, vocab.uncond_id)
        else:
            classes = torch.full((b,), vocab.uncond_id, dtype=torch.long, device=device)
        cond = Conditioned(z=tokens.z[clip], z_tilde=tokens.z_tilde[task, clip], ispad=tokens.ispad[task],
                           prefix=torch.stack([prompts[task], classes], dim=1), tasks=[], condition_video=None)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            terms = model.training_losses(cond, check_ids=False)
        terms["loss"].backward()
        nn.utils.clip_grad_norm_(params, tcfg.grad_clip)
        optimizer.step()
        return {**{k: v.detach() for k, v in terms.items()}, "lr": lr}

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
    speed = profile.speed
    fused = speed.train_clips > 0 and torch.device(profile.device).type == "cuda"  # one kernel per step, not ~10
    optimizer = torch.optim.AdamW(param_groups(transformer, tcfg.weight_decay), lr=tcfg.lr,
                                  betas=(tcfg.beta1, tcfg.beta2), **({"fused": True} if fused else {}))
    label = f"transformer {dataset} {'+'.join(tasks)} {condition}" + (f" {losses}" if condition == "commit" else "")
    key = ChunkedKey(gcfg, chunks) if chunks else gcfg
    if speed.train_clips or speed.bf16:
        if chunks:
            raise ValueError("Profile.speed (a finite token set, bf16) and data-parallel chunks cannot be combined")
        key = TokenSetKey(gcfg, speed.train_clips, speed.bf16)
    if speed.train_clips:
        built: list[Callable[[int], dict[str, Any]]] = []

        def step_fn(step: int) -> dict[str, Any]:  # the token set is built only when there is training to do
            if not built:
                tokens = token_set(tokenizer, dataset, tasks, speed.train_clips, profile.data.num_frames,
                                   profile.data.resolution, cond_frames, workers=speed.workers,
                                   device=profile.device)
                built.append(make_token_step_fn(model, optimizer, tokens, speed.bf16))
            return built[0](step)
    else:
        step_fn = make_step_fn(model, optimizer, profile.device, chunks, seed, speed.bf16)
    log = fit("transformer", key, seed, {"transformer": transformer}, {"transformer": optimizer}, step_fn, tcfg.steps,
              store=store, checkpoint_every=profile.checkpoint_every, device=profile.device, desc=label)
    transformer.eval()
    return model, log


def with_steps(profile: Profile, steps: int, **changes) -> TransformerConfig:
    """The profile's transformer config with another step count (and warm-up scaled to fit)."""
    base = profile.transformer
    warmup = min(base.warmup_steps, max(1, steps // 10))
    return replace(base, steps=steps, warmup_steps=warmup, **changes)

