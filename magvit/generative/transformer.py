"""The bidirectional (BERT) transformer of MAGVIT's second stage, and its causal twin (paper Sec. 4.1;
official ``videogvt/models/simplified_bert.py``).

The sequence is ``[task prompt rho, class token c, visual tokens z~ (N = t*h*w)]`` (paper Sec. 3.2,
Fig. 2). The model is a post-LN BERT as in the official ``simplified_bert.py``: learned absolute
positions, ``LN(x + Dropout(MHSA(x)))`` then ``LN(h + Dropout(MLP(h)))``, GELU (tanh approximation),
and an MLM head (Dense -> GELU -> LN -> logits tied to the input embedding with a per-vocab bias) of
which only the ``codebook_size`` visual-code logits are used. With ``causal=True`` the same module
is the autoregressive baseline of the same size (Tab. 6), with an optional KV cache for sampling.

Vocabulary layout (official ``videogvt/train_lib/task_registry.py``, ``mask_utils.py``): ids ``0..K-1`` are visual
codes, then one id per class, then the UNCOND class, then 16 special tokens indexed from the end of the table as the
official code does (MASK = -1, SEP = -2, task prompts -3..-7).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from magvit.config import TransformerConfig

# special tokens, in the official code's negative-id order (-1, -2, ...; mask_utils.MASK_TOKEN = -1)
SPECIAL_TOKENS = (
    "MASK", "SEP", "TASK_FULL_GENERATION", "TASK_FRAME_PREDICTION", "TASK_FRAME_INTERPOLATION",
    "TASK_OUTPAINTING", "TASK_INPAINTING",
)
NUM_SPECIAL = 16  # the multi-task table size; ids -8..-16 are unused (PAD = -15 in the code is unused)


@dataclass(frozen=True)
class Vocabulary:
    """Token ids of one model: ``codebook_size`` codes, classes, UNCOND, then 16 special tokens."""

    codebook_size: int
    num_classes: int = 0

    def __post_init__(self) -> None:
        if self.codebook_size < 2:
            raise ValueError(f"codebook_size must be >= 2, got {self.codebook_size}")
        if self.num_classes < 0:
            raise ValueError(f"num_classes must be >= 0, got {self.num_classes}")

    @property
    def size(self) -> int:
        return self.codebook_size + self.num_classes + 1 + NUM_SPECIAL

    @property
    def uncond_id(self) -> int:
        return self.codebook_size + self.num_classes

    @property
    def mask_id(self) -> int:
        return self.special("MASK")

    @property
    def sep_id(self) -> int:
        return self.special("SEP")

    def special(self, name: str) -> int:
        """Id of a special token: the official negative id wrapped from the end of the table."""
        if name not in SPECIAL_TOKENS:
            raise ValueError(f"unknown special token {name!r}; known: {', '.join(SPECIAL_TOKENS)}")
        return self.size - 1 - SPECIAL_TOKENS.index(name)

    def class_ids(self, labels: torch.Tensor | None, batch: int, device: torch.device | str) -> torch.Tensor:
        """Class tokens [B]: ``codebook_size + label``, or UNCOND where ``labels`` is None or -1."""
        if labels is None:
            return torch.full((batch,), self.uncond_id, dtype=torch.long, device=device)
        labels = torch.as_tensor(labels, device=device).long()
        if labels.shape != (batch,):
            raise ValueError(f"labels must have shape ({batch},), got {tuple(labels.shape)}")
        if (labels >= self.num_classes).any() or (labels < -1).any():
            raise ValueError(f"class labels must lie in [-1, {self.num_classes}) (-1 = unconditional), "
                             f"got min {int(labels.min())} max {int(labels.max())}")
        return torch.where(labels < 0, self.uncond_id, labels + self.codebook_size)


def transformer_b() -> TransformerConfig:
    """MAGVIT-B's transformer: 12 layers x 768, 12 heads, MLP 3072 (~87M params; paper Sec. 4.1)."""
    return TransformerConfig(num_layers=12, hidden=768, heads=12, mlp=3072)


def transformer_l() -> TransformerConfig:
    """MAGVIT-L's transformer: 24 layers x 1024, 16 heads, MLP 4096 (paper Sec. 4.1)."""
    return TransformerConfig(num_layers=24, hidden=1024, heads=16, mlp=4096)


class KVCache:
    """Keys and values of every layer for the positions seen so far (autoregressive sampling)."""

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []  # per layer [B, heads, L, d]
        self.values: list[torch.Tensor] = []

    @property
    def length(self) -> int:
        return self.keys[0].shape[2] if self.keys else 0

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if layer == len(self.keys):
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer] = torch.cat([self.keys[layer], k], dim=2)
            self.values[layer] = torch.cat([self.values[layer], v], dim=2)
        return self.keys[layer], self.values[layer]


class SelfAttention(nn.Module):
    """Multi-head self-attention with biased Q/K/V/out projections (BERT)."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        if cfg.hidden % cfg.heads:
            raise ValueError(f"hidden {cfg.hidden} is not divisible by heads {cfg.heads}")
        self.heads, self.dropout = cfg.heads, cfg.dropout
        self.qkv = nn.Linear(cfg.hidden, 3 * cfg.hidden)
        self.out = nn.Linear(cfg.hidden, cfg.hidden)

    def forward(self, x: torch.Tensor, causal: bool, cache: KVCache | None = None,
                layer: int = 0) -> torch.Tensor:
        # x: [B, L, hidden]
        q, k, v = rearrange(self.qkv(x), "b l (three h d) -> three b h l d", three=3, h=self.heads)
        past = 0
        if cache is not None:
            past = cache.keys[layer].shape[2] if layer < len(cache.keys) else 0
            k, v = cache.update(layer, k, v)  # [B, h, past + L, d]
        mask, is_causal = None, False
        if causal and past == 0:
            is_causal = True
        elif causal and x.shape[1] > 1:  # several new tokens after a cached prefix: offset causal mask
            rows = torch.arange(past, past + x.shape[1], device=x.device)[:, None]
            mask = rows >= torch.arange(past + x.shape[1], device=x.device)[None, :]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(rearrange(y, "b h l d -> b l (h d)"))


POSITIONS = ("learned", "factorized")
NORMS = ("post", "pre")
CLASS_INPUTS = ("token", "every_token")
PREFIX_TOKENS = 2  # [rho, c] before the visual tokens (Sec. 3.2)


class Block(nn.Module):
    """Post-LN BERT layer: ``h = LN(x + Drop(MHSA(x)))``; ``out = LN(h + Drop(W2 GELU(W1 h)))``.

    ``cfg.norm == "pre"``: ``h = x + Drop(MHSA(LN(x)))``; ``out = h + Drop(W2 GELU(W1 LN(h)))`` (the stack's last LN
    is the transformer's ``final_ln``)."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        if cfg.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {cfg.norm!r}")
        self.pre_ln = cfg.norm == "pre"
        self.attn = SelfAttention(cfg)
        self.ln1 = nn.LayerNorm(cfg.hidden, eps=1e-12)
        self.fc1 = nn.Linear(cfg.hidden, cfg.mlp)
        self.fc2 = nn.Linear(cfg.mlp, cfg.hidden)
        self.ln2 = nn.LayerNorm(cfg.hidden, eps=1e-12)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, causal: bool, cache: KVCache | None, layer: int) -> torch.Tensor:
        if self.pre_ln:
            h = x + self.drop(self.attn(self.ln1(x), causal, cache, layer))
            return h + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(h)), approximate="tanh")))
        h = self.ln1(x + self.drop(self.attn(x, causal, cache, layer)))
        return self.ln2(h + self.drop(self.fc2(F.gelu(self.fc1(h), approximate="tanh"))))


class Transformer(nn.Module):
    """BERT over ``seq_len`` tokens of ``vocab``; returns logits over the visual codes only.

    ``causal=False``: bidirectional, every input has exactly ``seq_len`` tokens (MTM / COMMIT).
    ``causal=True``: left-to-right; inputs up to ``seq_len`` tokens, optionally continuing a
    :class:`KVCache` (the autoregressive baseline).

    ``cfg.position == "factorized"`` needs ``grid`` = the latent (t, h, w) and the sequence ``[rho, c, z]``
    (``seq_len = 2 + t*h*w``): each visual token's position is ``E_t[i] + E_h[j] + E_w[k]``, the two prefix tokens
    keep a vector each.
    """

    def __init__(self, cfg: TransformerConfig, vocab: Vocabulary, seq_len: int, causal: bool = False,
                 grid: tuple[int, int, int] | None = None) -> None:
        super().__init__()
        if seq_len < 1:
            raise ValueError(f"seq_len must be positive, got {seq_len}")
        if cfg.position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {cfg.position!r}")
        if cfg.class_input not in CLASS_INPUTS:
            raise ValueError(f"class_input must be one of {CLASS_INPUTS}, got {cfg.class_input!r}")
        if cfg.class_input == "every_token" and causal:
            raise ValueError("class_input='every_token' needs the class token in every call; a KV-cached causal "
                             "transformer sees it only in its first")
        self.cfg, self.vocab, self.seq_len, self.causal = cfg, vocab, seq_len, causal
        self.tok_emb = nn.Embedding(vocab.size, cfg.hidden)
        if cfg.position == "learned":
            self.pos_emb = nn.Embedding(seq_len, cfg.hidden)
        else:
            if grid is None or seq_len != PREFIX_TOKENS + grid[0] * grid[1] * grid[2]:
                raise ValueError(f"factorized positions need the latent grid (t, h, w) of a [rho, c, z] sequence: "
                                 f"got grid {grid} for {seq_len} tokens")
            self.grid = tuple(grid)
            self.prefix_pos = nn.Embedding(PREFIX_TOKENS, cfg.hidden)
            self.t_pos, self.h_pos, self.w_pos = (nn.Embedding(size, cfg.hidden) for size in grid)
        self.emb_ln = nn.LayerNorm(cfg.hidden, eps=1e-12)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.num_layers)])
        if cfg.norm == "pre":  # a pre-LN stack ends un-normalised: one LN before the head
            self.final_ln = nn.LayerNorm(cfg.hidden, eps=1e-12)
        # MLM head: Dense -> GELU -> LN -> tied embedding + per-vocab bias
        self.head_dense = nn.Linear(cfg.hidden, cfg.hidden)
        self.head_ln = nn.LayerNorm(cfg.hidden, eps=1e-12)
        self.head_bias = nn.Parameter(torch.zeros(vocab.size))
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        # truncated normal (+-2 sigma), sigma 0.02; biases zero (official simplified_bert.py)
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    @property
    def codebook_size(self) -> int:
        return self.vocab.codebook_size

    def check_tokens(self, tokens: torch.Tensor, past: int = 0, check_ids: bool = True) -> None:
        """Type, shape and length always; the id range unless ``check_ids=False`` (it reads the ids back to the host,
        a synchronisation per call on a GPU: callers whose ids were checked once per dataset skip it)."""
        if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.long:
            raise TypeError(f"tokens must be a LongTensor [B, L], got "
                            f"{getattr(tokens, 'dtype', type(tokens).__name__)}")
        if tokens.ndim != 2:
            raise ValueError(f"tokens must have shape [B, L], got {tuple(tokens.shape)}")
        length = tokens.shape[1]
        if not self.causal and length != self.seq_len:
            raise ValueError(f"sequence of length {length} given to a transformer built for exactly "
                             f"{self.seq_len} tokens")
        if self.causal and not 1 <= past + length <= self.seq_len:
            raise ValueError(f"causal sequence of length {past + length} (cached {past} + new {length}) "
                             f"exceeds the {self.seq_len} positions of this transformer")
        if torch.compiler.is_compiling() or not check_ids:
            return  # reading ids on the host would break a torch.compile graph; compiled callers check them eagerly
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.vocab.size):
            raise ValueError(f"token ids must lie in [0, {self.vocab.size}) (vocabulary size), got min "
                             f"{int(tokens.min())} max {int(tokens.max())}")

    def position_table(self) -> torch.Tensor:
        """The position vectors of the whole sequence [seq_len, hidden]."""
        if self.cfg.position == "learned":
            return self.pos_emb.weight
        visual = (rearrange(self.t_pos.weight, "t d -> t 1 1 d") + rearrange(self.h_pos.weight, "h d -> 1 h 1 d")
                  + rearrange(self.w_pos.weight, "w d -> 1 1 w d"))  # [t, h, w, hidden]
        return torch.cat([self.prefix_pos.weight, rearrange(visual, "t h w d -> (t h w) d")])

    def forward(self, tokens: torch.Tensor, cache: KVCache | None = None, check_ids: bool = True) -> torch.Tensor:
        """tokens [B, L] -> logits over the visual codes [B, L, codebook_size]. ``check_ids=False``: the caller
        vouches for the id range (training on a token set checked once, ``magvit.generative.token_memo``)."""
        if cache is not None and not self.causal:
            raise ValueError("a KV cache only applies to a causal transformer")
        past = cache.length if cache is not None else 0
        self.check_tokens(tokens, past, check_ids)
        positions = torch.arange(past, past + tokens.shape[1], device=tokens.device)
        x = self.tok_emb(tokens) + self.position_table()[positions]  # [B, L, hidden]
        if self.cfg.class_input == "every_token":  # c (position 1) also added to every token after [rho, c]
            x = torch.cat([x[:, :PREFIX_TOKENS], x[:, PREFIX_TOKENS:] + self.tok_emb(tokens[:, 1:2])], dim=1)
        x = self.drop(self.emb_ln(x))
        for i, block in enumerate(self.blocks):
            x = block(x, self.causal, cache, i)
        if self.cfg.norm == "pre":
            x = self.final_ln(x)
        h = self.head_ln(F.gelu(self.head_dense(x), approximate="tanh"))
        k = self.vocab.codebook_size  # only the visual-code logits are used for loss and sampling
        return h @ self.tok_emb.weight[:k].t() + self.head_bias[:k]


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
