"""Decoding: COMMIT (Algorithm 1), MaskGIT, and autoregressive sampling with a KV cache (paper Alg. 1,
Sec. 3.2; official ``videogvt/train_lib/parallel_decode.py`` and ``lm_sample_decode.py``).

All three are batched, run under ``torch.inference_mode`` and draw every random number from the
``torch.Generator`` they are given, so the same seed gives the same samples.

COMMIT decoding (paper Alg. 1, as the official ``parallel_decode.py`` implements it): start from the
COMMIT mask with every position selected (condition positions hold z~, the rest [MASK]); at step
t = 0..K-1 sample x^_i at every selected position, score it by its log-probability plus Gumbel
noise scaled by ``tau (1 - (t+1)/K)``, keep the ``mask_count(gamma((t+1)/K), N)`` lowest-scoring
positions open (re-filled by Eq. 2: z~ or [MASK]) and fix the rest. The condition tokens are
therefore re-predicted ("refined") too. MaskGIT decoding is the same loop from an all-[MASK]
canvas whose condition positions hold given tokens that are never re-predicted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from magvit.generative.commit import commit_mask, gamma, mask_count
from magvit.generative.transformer import KVCache, Transformer


@dataclass
class DecodeResult:
    tokens: torch.Tensor  # [B, N] the sampled visual tokens z^
    steps: int  # forward passes of the transformer
    # per step (when asked): inputs [B, N] the step saw, opened [B, N] its open (re-predicted)
    # positions, tokens [B, N] z^ after it, open [B] the number of positions still open after it
    history: list[dict[str, torch.Tensor]] = field(default_factory=list)


def uniform(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    gen_device = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=gen_device).to(device)


def gumbel(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    u = uniform(shape, generator, device).clamp(1e-20, 1 - 1e-7)
    return -torch.log(-torch.log(u))


def sample_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ids from softmax(logits / temperature) (optionally top-k) by the Gumbel-max trick.

    logits [..., K] -> (ids [...], log-probability of each sampled id under that distribution [...]).
    """
    if temperature <= 0:
        raise ValueError(f"sampling temperature must be positive, got {temperature}")
    logits = logits.float() / temperature
    if top_k is not None:
        if not 1 <= top_k <= logits.shape[-1]:
            raise ValueError(f"top_k must lie in [1, {logits.shape[-1]}], got {top_k}")
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -torch.inf)
    log_probs = logits.log_softmax(-1)
    ids = (log_probs + gumbel(tuple(log_probs.shape), generator, logits.device)).argmax(-1)
    return ids, log_probs.gather(-1, ids[..., None])[..., 0]


def open_count(step: int, steps: int, total: torch.Tensor, still_open: torch.Tensor,
               count_mode: str = "ceil") -> torch.Tensor:
    """Positions left open after step ``step`` (0-based) of ``steps``: mask_count(gamma((t+1)/K),
    total), at least 1 and fewer than before (so every step fixes one), and 0 after the last step."""
    if step == steps - 1:
        return torch.zeros_like(still_open)
    count = mask_count(gamma((step + 1) / steps), total, count_mode).to(still_open.device)
    return torch.minimum(count, still_open - 1).clamp(min=0)


def check_prefix(model: Transformer, prefix: torch.Tensor, num_tokens: int) -> None:
    if prefix.ndim != 2 or prefix.dtype != torch.long:
        raise ValueError(f"prefix must be a LongTensor [B, P], got {prefix.dtype} {tuple(prefix.shape)}")
    if not model.causal and prefix.shape[1] + num_tokens != model.seq_len:
        raise ValueError(f"prefix of {prefix.shape[1]} + {num_tokens} visual tokens does not match the "
                         f"transformer's sequence length {model.seq_len}")


def check_visual(tokens: torch.Tensor, codebook_size: int, name: str) -> None:
    if tokens.dtype != torch.long or tokens.ndim != 2:
        raise ValueError(f"{name} must be a LongTensor [B, N], got {tokens.dtype} {tuple(tokens.shape)}")
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= codebook_size):
        raise ValueError(f"{name} must be codebook ids in [0, {codebook_size}), got min "
                         f"{int(tokens.min())} max {int(tokens.max())}")


def iterative_decode(model: Transformer, prefix: torch.Tensor, canvas: Callable[[torch.Tensor, torch.Tensor],
                     torch.Tensor], tokens: torch.Tensor, selected: torch.Tensor, steps: int,
                     choice_temperature: float, count_mode: str, temperature: float,
                     generator: torch.Generator | None, keep_history: bool) -> DecodeResult:
    """The shared K-step loop. ``canvas(tokens, selected)`` builds the input of a step; ``selected``
    [B, N] marks the positions still open (re-predicted); the rest of ``tokens`` are fixed."""
    if steps < 1:
        raise ValueError(f"decoding needs at least one step, got {steps}")
    total = selected.sum(1)  # [B] positions to generate
    history = []
    for t in range(steps):
        inputs, opened = canvas(tokens, selected), selected  # [B, N]
        logits = model(torch.cat([prefix, inputs], dim=1))[:, prefix.shape[1]:]  # [B, N, K]
        sampled, log_prob = sample_logits(logits, temperature, generator=generator)
        tokens = torch.where(selected, sampled, tokens)
        progress = (t + 1) / steps
        # confidence + annealed Gumbel noise; fixed positions can never be re-selected
        score = log_prob + choice_temperature * (1 - progress) * gumbel(tuple(log_prob.shape), generator,
                                                                       log_prob.device)
        score = score.masked_fill(~selected, torch.inf)
        still_open = open_count(t, steps, total, selected.sum(1), count_mode)  # [B]
        rank = score.argsort(dim=1).argsort(dim=1)  # rank of each position's score in its row
        selected = rank < still_open[:, None]
        if keep_history:
            history.append({"inputs": inputs.clone(), "opened": opened.clone(), "tokens": tokens.clone(),
                            "open": still_open.clone()})
    return DecodeResult(tokens=tokens, steps=steps, history=history)


@torch.inference_mode()
def commit_decode(model: Transformer, prefix: torch.Tensor, z_tilde: torch.Tensor, ispad: torch.Tensor,
                  steps: int = 12, choice_temperature: float = 4.5, count_mode: str = "ceil",
                  temperature: float = 1.0, generator: torch.Generator | None = None,
                  keep_history: bool = False) -> DecodeResult:
    """Algorithm 1: non-autoregressive decoding by COMMIT.

    prefix [B, P] (rho, c), z_tilde [B, N] condition tokens, ispad [B, N] bool -> z^ [B, N].
    """
    check_prefix(model, prefix, z_tilde.shape[1])
    check_visual(z_tilde, model.codebook_size, "z_tilde")
    if ispad.shape != z_tilde.shape or ispad.dtype != torch.bool:
        raise ValueError(f"ispad must be bool with z_tilde's shape {tuple(z_tilde.shape)}")
    mask_id = model.vocab.mask_id

    def canvas(tokens: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
        # Eq. 2 with s <= s* exactly at the open positions: z~ or [MASK] there, z^ elsewhere
        return commit_mask(tokens, z_tilde, ispad, (~selected).float(), 0.5, mask_id)

    tokens = torch.zeros_like(z_tilde)
    selected = torch.ones_like(ispad)  # s = 0, s* = 1: every position starts open
    return iterative_decode(model, prefix, canvas, tokens, selected, steps, choice_temperature,
                            count_mode, temperature, generator, keep_history)


@torch.inference_mode()
def maskgit_decode(model: Transformer, prefix: torch.Tensor, cond_tokens: torch.Tensor, ispad: torch.Tensor,
                   steps: int = 12, choice_temperature: float = 4.5, count_mode: str = "ceil",
                   temperature: float = 1.0, generator: torch.Generator | None = None,
                   keep_history: bool = False) -> DecodeResult:
    """MaskGIT decoding: condition positions (not ispad) hold ``cond_tokens`` and stay fixed; the
    others start as [MASK] and are generated in K steps with the same schedule."""
    check_prefix(model, prefix, cond_tokens.shape[1])
    check_visual(cond_tokens, model.codebook_size, "cond_tokens")
    if ispad.shape != cond_tokens.shape or ispad.dtype != torch.bool:
        raise ValueError(f"ispad must be bool with cond_tokens' shape {tuple(cond_tokens.shape)}")
    if (ispad.sum(1) == 0).any():
        raise ValueError("MaskGIT decoding needs at least one position to generate per example")
    mask_id = model.vocab.mask_id

    def canvas(tokens: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
        return torch.where(selected, torch.full_like(tokens, mask_id), tokens)

    tokens = torch.where(ispad, 0, cond_tokens)
    return iterative_decode(model, prefix, canvas, tokens, ispad.clone(), steps, choice_temperature,
                            count_mode, temperature, generator, keep_history)


@torch.inference_mode()
def ar_decode(model: Transformer, prefix: torch.Tensor, given: torch.Tensor, num_tokens: int,
              temperature: float = 1.0, top_k: int | None = None, generator: torch.Generator | None = None,
              use_cache: bool = True) -> DecodeResult:
    """Autoregressive sampling: ``[prefix, given visual tokens]`` are teacher-forced, then the
    remaining ``num_tokens - C`` visual tokens are sampled one per step, with a KV cache (one new
    token per forward) or without (the whole sequence each step; for checking the cache).

    prefix [B, P], given [B, C] -> z^ [B, num_tokens] (its first C tokens are ``given``).
    """
    if not model.causal:
        raise ValueError("autoregressive decoding needs a causal transformer (causal=True)")
    check_visual(given, model.codebook_size, "given")
    b, c = given.shape
    if prefix.shape[1] + num_tokens > model.seq_len:
        raise ValueError(f"prefix {prefix.shape[1]} + {num_tokens} tokens exceed the transformer's "
                         f"{model.seq_len} positions")
    if not 0 <= c < num_tokens:
        raise ValueError(f"{c} given tokens leave nothing to generate out of {num_tokens}")
    sequence = torch.cat([prefix, given], dim=1)  # [B, P + C]
    cache = KVCache() if use_cache else None
    new = sequence
    for _ in range(num_tokens - c):
        logits = model(new if use_cache else sequence, cache)[:, -1]  # [B, K] next-token logits
        token, _ = sample_logits(logits, temperature, top_k, generator)
        sequence = torch.cat([sequence, token[:, None]], dim=1)
        new = token[:, None]
    return DecodeResult(tokens=sequence[:, prefix.shape[1]:], steps=num_tokens - c)
