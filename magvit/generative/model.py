"""The generative model: a frozen tokenizer and a transformer over its tokens, and one way to generate with it.

Paper Sec. 3.2 and Fig. 2; the official ``videogvt/train_lib/maskgvt_train_lib.py`` (the training and sampling
sequence layout ``[task, class, visual tokens]``) and ``videogvt/train_lib/parallel_decode.py`` (decoding).
:class:`GenerativeConfig` is everything that defines one trained transformer (its artifact key);
:class:`MaskedVideoModel` builds a task's condition, its training losses (COMMIT Eq. 2-4, MaskGIT latent masking,
prefix condition, or next-token prediction for the same-size AR baseline) and its decoding
(``magvit.generative.decoding``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from magvit import data as video_data
from magvit.config import DataConfig, TokenizerConfig, TransformerConfig
from magvit.data.procedural import GENERATOR_VERSION
from magvit.generative.commit import CONDITION_MODES, LOSS_MODES, MASK_COUNTS, corrupt, gamma, loss_terms, prefix_tokens
from magvit.generative.decoding import DecodeResult, ar_decode, commit_decode, maskgit_decode
from magvit.generative.tasks import (
    Conditioned,
    check_task,
    check_tokenizer,
    is_class_conditional,
    latent_condition,
    prepare_batch,
)
from magvit.generative.transformer import Transformer, Vocabulary

DECODE_METHODS = ("commit", "maskgit", "ar")


@dataclass(frozen=True)
class GenerativeConfig:
    """Everything that defines one trained transformer: the artifact key."""

    transformer: TransformerConfig
    tokenizer: TokenizerConfig
    data: DataConfig
    dataset: str = "pushbot"
    tasks: tuple[str, ...] = ("FP",)
    condition: str = "commit"  # "commit" | "latent" (MaskGIT) | "prefix" | "ar"
    losses: str = "mask+recons+refine"  # Tab. 5 switch: "mask" | "mask+recons" | "mask+recons+refine"
    cond_frames: int = 1  # condition frames of FP / FI (1 for BAIR-like pushbot, 5 for K600-like scenes)
    tokenizer_seed: int = 0
    data_version: str = GENERATOR_VERSION  # the stand-ins it was trained on (their version)

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError("at least one task is needed")
        for name in self.tasks:
            check_task(name)
        if self.condition not in CONDITION_MODES:
            raise ValueError(f"condition must be one of {CONDITION_MODES}, got {self.condition!r}")
        if self.losses not in LOSS_MODES:
            raise ValueError(f"losses must be one of {tuple(LOSS_MODES)}, got {self.losses!r}")
        if self.transformer.mask_count not in MASK_COUNTS:
            raise ValueError(f"mask_count must be one of {MASK_COUNTS}, got {self.transformer.mask_count!r}")
        if self.condition in ("prefix", "ar") and len(self.tasks) > 1:
            raise ValueError(f"the {self.condition!r} baseline is single-task (its sequence length "
                             "depends on the task); the paper could not train a multi-task prefix model")

    @property
    def class_conditional(self) -> bool:
        return any(is_class_conditional(t) for t in self.tasks)


def num_classes(cfg: GenerativeConfig) -> int:
    return video_data.num_classes(cfg.dataset) if cfg.class_conditional else 0


def sequence_length(cfg: GenerativeConfig, latent_shape: tuple[int, int, int]) -> int:
    """2 prefix tokens [rho, c] + N visual tokens, plus C condition tokens and SEP for prefix mode."""
    n = latent_shape[0] * latent_shape[1] * latent_shape[2]
    if cfg.condition != "prefix":
        return 2 + n
    video_shape = (cfg.data.num_frames, cfg.data.resolution, cfg.data.resolution)
    cond = int(latent_condition(cfg.tasks[0], video_shape, latent_shape, cfg.cond_frames).sum())
    return 2 + cond + 1 + n


def build_transformer(cfg: GenerativeConfig, codebook_size: int, latent_shape: tuple[int, int, int]) -> Transformer:
    vocab = Vocabulary(codebook_size, num_classes(cfg))
    return Transformer(cfg.transformer, vocab, sequence_length(cfg, latent_shape), causal=cfg.condition == "ar",
                       grid=tuple(latent_shape))


class MaskedVideoModel(nn.Module):
    """A frozen tokenizer and a transformer trained on its tokens, with one way to generate.

    ``generate(video, task)`` builds the task's condition from ``video`` (the ground truth is used
    only through V~) and samples tokens with the decoding that matches the training mode:
    COMMIT -> Alg. 1, latent masking / prefix -> MaskGIT decoding, ar -> KV-cached sampling.
    """

    def __init__(self, cfg: GenerativeConfig, tokenizer: nn.Module, transformer: Transformer) -> None:
        super().__init__()
        check_tokenizer(tokenizer, transformer.vocab)
        self.cfg, self.tokenizer, self.transformer = cfg, tokenizer, transformer
        self.latent_shape = tuple(tokenizer.latent_shape)
        self.num_tokens = self.latent_shape[0] * self.latent_shape[1] * self.latent_shape[2]
        n_expected = sequence_length(cfg, self.latent_shape)
        if transformer.seq_len != n_expected:
            raise ValueError(f"transformer has {transformer.seq_len} positions, the tokenizer's latent "
                             f"{self.latent_shape} needs {n_expected}")
        for p in tokenizer.parameters():
            p.requires_grad_(False)

    @property
    def vocab(self) -> Vocabulary:
        return self.transformer.vocab

    def condition(self, video: torch.Tensor, tasks: list[str] | str, labels: torch.Tensor | None = None) -> Conditioned:
        for name in [tasks] if isinstance(tasks, str) else tasks:
            check_task(name)  # an unknown name is a different error from a task this model never saw
            if name not in self.cfg.tasks:
                raise ValueError(f"task {name!r} was not trained; this model knows {self.cfg.tasks}")
        return prepare_batch(self.tokenizer, video, tasks, self.vocab, labels, self.cfg.cond_frames,
                             self.cfg.transformer.inpainting_token)

    def sequence(self, cond: Conditioned, inputs: torch.Tensor) -> torch.Tensor:
        """[rho, c, (prefix condition, SEP), visual inputs] for the bidirectional modes."""
        if self.cfg.condition == "prefix":
            return torch.cat([cond.prefix, prefix_tokens(cond.z_tilde, cond.ispad, self.vocab.sep_id), inputs], 1)
        return torch.cat([cond.prefix, inputs], dim=1)

    def training_losses(self, cond: Conditioned, check_ids: bool = True) -> dict[str, torch.Tensor]:
        """The loss terms of one batch (the global torch RNG of ``cond``'s device draws r and the scores).
        ``check_ids=False``: ids already checked (a token set), no host read-back of their range."""
        cfg = self.cfg
        b, n = cond.z.shape
        if cfg.condition == "ar":
            return self.ar_losses(cond, check_ids)
        # drawn on the ids' device (on the CPU the same draws as torch.rand(b); on a GPU no host-to-device copy)
        ratio = gamma(torch.rand(b, device=cond.z.device))
        inputs, kinds = corrupt(cond.z, cond.z_tilde, cond.ispad, ratio, self.vocab.mask_id, cfg.condition,
                                cfg.transformer.mask_count)
        logits = self.transformer(self.sequence(cond, inputs), check_ids=check_ids)[:, -n:]  # [B, N, K]
        losses = cfg.losses if cfg.condition == "commit" else "mask"  # the baselines train on L_mask
        return loss_terms(logits, cond.z, kinds, losses, cfg.transformer.label_smoothing)

    def ar_visual(self, cond: Conditioned) -> torch.Tensor:
        """AR training/inference sequence: condition positions hold z~ (what inference can know)."""
        return torch.where(cond.ispad, cond.z, cond.z_tilde)

    def ar_losses(self, cond: Conditioned, check_ids: bool = True) -> dict[str, torch.Tensor]:
        visual = self.ar_visual(cond)  # [B, N]
        full = torch.cat([cond.prefix, visual], dim=1)  # [B, P + N]
        p = cond.prefix.shape[1]
        # position j predicts token j + 1: [B, N, K]
        logits = self.transformer(full[:, :-1], check_ids=check_ids)[:, p - 1:]
        ce = nn.functional.cross_entropy(logits.flatten(0, 1), visual.flatten(), reduction="none",
                                         label_smoothing=self.cfg.transformer.label_smoothing).view_as(visual)
        weights = cond.ispad.float()  # teacher-forced condition tokens carry no loss
        loss = ((ce * weights).sum(1) / weights.sum(1).clamp(min=1)).mean()
        return {"loss": loss, "ce": loss}

    @torch.inference_mode()
    def generate(self, video: torch.Tensor, task: str, labels: torch.Tensor | None = None,
                 method: str | None = None, generator: torch.Generator | None = None,
                 keep_history: bool = False, steps: int | None = None) -> tuple[DecodeResult, Conditioned]:
        """Sample tokens for ``task`` conditioned on ``video``'s V~. Returns (result, condition)."""
        cfg = self.cfg
        method = method or {"commit": "commit", "latent": "maskgit", "prefix": "maskgit", "ar": "ar"}[cfg.condition]
        if method not in DECODE_METHODS:
            raise ValueError(f"unknown decoding method {method!r}; choose from {DECODE_METHODS}")
        if (method == "ar") != (cfg.condition == "ar"):
            raise ValueError(f"decoding {method!r} does not fit a model trained with condition {cfg.condition!r}")
        cond = self.condition(video, task, labels)
        k, tau = steps or cfg.transformer.decode_steps, cfg.transformer.choice_temperature
        count_mode = cfg.transformer.mask_count
        if method == "ar":
            c = int((~cond.ispad[0]).sum())
            if not bool((~cond.ispad[:, :c]).all()) or bool((~cond.ispad[:, c:]).any()):
                raise ValueError(f"AR decoding needs the condition to be a leading block of tokens; task {task} "
                                 "is not (use FP, CFP or CG)")
            result = ar_decode(self.transformer, cond.prefix, cond.z_tilde[:, :c], self.num_tokens,
                               generator=generator)
        elif method == "commit":
            result = commit_decode(self.transformer, cond.prefix, cond.z_tilde, cond.ispad, k, tau, count_mode,
                                   generator=generator, keep_history=keep_history)
        else:
            n = self.num_tokens
            if cfg.condition == "prefix":  # whole canvas generated after [rho, c, condition, SEP]
                prefix = self.sequence(cond, cond.z_tilde)[:, :-n]
                ispad = torch.ones_like(cond.ispad)
            else:  # latent masking: the condition tokens z~ are placed unmasked and kept
                prefix, ispad = cond.prefix, cond.ispad
            result = maskgit_decode(self.transformer, prefix, cond.z_tilde, ispad, k, tau, count_mode,
                                    generator=generator, keep_history=keep_history)
        return result, cond

    @torch.inference_mode()
    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Visual tokens [B, N] -> video [B, 3, T, H, W] clipped to [0, 1]."""
        if tokens.shape[1:] != (self.num_tokens,):
            raise ValueError(f"expected tokens [B, {self.num_tokens}], got {tuple(tokens.shape)}")
        ids = tokens.view(tokens.shape[0], *self.latent_shape)
        return self.tokenizer.decode(ids).clamp(0, 1)

