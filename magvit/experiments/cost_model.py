"""What generating a clip costs (Fig. 5, Sec. 4.3): FLOPs and bytes moved per decoder, turned into time.

Each decoder is a list of :class:`Pass` es (one network evaluation each, with its FLOPs and the bytes it reads
and writes). A pass takes ``max(FLOPs / peak rate, bytes / bandwidth)`` (the roofline) plus a fixed overhead
per kernel launch; a decoder's time is the sum over its passes. The decoders (notebook 11):

- **COMMIT** (Alg. 1, official ``parallel_decode.py``) and **MaskGIT**: K passes of the bidirectional
  transformer over all ``2 + N`` positions, plus sampling over the codebook at every position;
- **AR with a KV cache**: one pass over the prefix and condition tokens, then one pass per generated token whose
  attention reads the whole cache (its cost grows with the position); ``cache_copy``: our ``KVCache`` grows by
  ``torch.cat``, which copies the cache at every step (a preallocated cache, as serving stacks use, does not);
- **diffusion-style loop**: ``steps`` passes of the same transformer over the same latent positions (no
  sampling): the step count of video diffusion (Ho et al., 256-1000 steps) with MAGVIT-B's network, so the
  comparison isolates the number of network evaluations; a 3D U-Net over pixels (the paper's [33]) would cost more
  per evaluation, so this is a lower bound on diffusion's time;
- the **3D-VQ decoder** (``magvit.tokenizer.model``), once per clip, counted on the meta device (no weights, no
  compute).

FLOPs are counted the standard way (2 per multiply-add of every matmul and convolution; attention's two
matmuls included; elementwise work not counted). Bytes assume every operator reads its inputs and writes its
output once (no fusion, no cache reuse across operators) and that weights are read once per pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

from magvit.config import DataConfig, TokenizerConfig, TransformerConfig
from magvit.tokenizer.model import build_tokenizer

DECODERS = ("commit", "maskgit", "ar", "diffusion")
PREFIX = 2  # [task prompt rho, class token c] before the N visual tokens (Sec. 3.2)


@dataclass(frozen=True)
class Pass:
    """One network evaluation: FLOPs, bytes read + written, and operators dispatched (``kernels``)."""

    flops: float
    bytes: float
    kernels: int = 0


@dataclass(frozen=True)
class Hardware:
    """Peak matmul rate (FLOP/s), memory bandwidth (B/s), the value size the model runs in, the overhead per
    kernel launch (s), and where the numbers come from."""

    key: str  # column prefix in notebook 11's table
    name: str
    peak_flops: float
    bandwidth: float
    bytes_per_value: int
    launch_s: float
    source: str
    static_kv_cache: bool = True  # False: the cache grows by torch.cat, copied every step (our KVCache)


# NVIDIA H100 SXM5 80GB datasheet (nvidia.com/en-us/data-center/h100): 989 TFLOP/s dense BF16 tensor core
# (1979 with sparsity), 67 TFLOP/s FP32 (non-tensor), 3.35 TB/s HBM3. The launch overhead is not a datasheet
# figure: ~5 us per CUDA kernel launched from eager PyTorch (an assumption, typical of measured launch latency).
H100_SXM_BF16 = Hardware("h100_bf16", "H100 SXM, bf16 (tensor cores)", 989e12, 3.35e12, 2, 5e-6,
                         "NVIDIA H100 SXM datasheet: 989 TFLOP/s dense BF16, 3.35 TB/s HBM3; 5 us/launch assumed")
H100_SXM_FP32 = Hardware("h100_fp32", "H100 SXM, fp32 (no tensor cores)", 67e12, 3.35e12, 4, 5e-6,
                         "NVIDIA H100 SXM datasheet: 67 TFLOP/s FP32 (non-tensor), 3.35 TB/s HBM3; 5 us/launch assumed")

# operators dispatched per pass in eager PyTorch, each paying the host's per-operator overhead (on a GPU most of
# them launch a kernel; at batch 1 the host's dispatch, not the GPU, sets the pace). Counted by a dispatch mode over
# magvit.generative (tests/test_cost_model.py recounts them): per layer linear x4, add x2, layer_norm x2, dropout x2,
# reshape, permute x2, unbind, attention, gelu ... (17); a cached step also concatenates keys and values (+2);
# the head 19 (id checks, embeddings, LNs, dense, gelu, logits); sampling: ``sample_logits`` 16, one COMMIT /
# MaskGIT step's sampling and mask schedule 47.
KERNELS_PER_LAYER = 17
KERNELS_CACHE_PER_LAYER = 2
KERNELS_HEAD = 19
KERNELS_SAMPLE = 16
KERNELS_MASKED_STEP = 47


def transformer_params(cfg: TransformerConfig, codebook_size: int) -> int:
    """Weights a pass reads: the layers (with biases and LayerNorms), the head's dense + LN, the code logits."""
    d, m = cfg.hidden, cfg.mlp
    layer = 4 * d * d + 4 * d + 2 * d * m + m + d + 4 * d
    return cfg.num_layers * layer + d * d + 3 * d + codebook_size * (d + 1)


def transformer_pass(cfg: TransformerConfig, batch: int, new: int, past: int = 0, codebook_size: int = 1024,
                     bytes_per_value: int = 4, sample: bool = False, cache_copy: bool = False) -> Pass:
    """One forward of ``magvit.generative.transformer.Transformer`` over ``new`` positions after ``past`` cached ones.

    Per layer: QKV, output and MLP matmuls 2 B new (4 d^2 + 2 d m), attention 4 B new (past + new) d; head: dense
    2 B new d^2 and code logits 2 B new d K. Bytes: weights once; per layer 24 d + 4 m values per position
    (QKV in/out, attention in/out, head merge copy, projections, residual adds, LayerNorms, MLP in/hidden/GELU/out);
    the cached keys and values read by attention (2 d per cached position per layer); ``cache_copy``: torch.cat
    reads the old cache and writes the new one (4 d per cached position per layer); ``sample``: logits
    log-softmaxed, noised and ranked (6 K values per position).
    """
    d, m, layers, k = cfg.hidden, cfg.mlp, cfg.num_layers, codebook_size
    keys = past + new
    flops = 2 * batch * new * (layers * (4 * d * d + 2 * d * m) + d * d + d * k) + layers * 4 * batch * new * keys * d
    values = transformer_params(cfg, k)
    values += layers * batch * new * (24 * d + 4 * m) + batch * new * (8 * d + 3 * k)
    if past:
        values += layers * 2 * batch * past * d
    if cache_copy and past:
        values += layers * 4 * batch * past * d
    kernels = layers * (KERNELS_PER_LAYER + (KERNELS_CACHE_PER_LAYER if past else 0)) + KERNELS_HEAD
    if sample:
        values += 6 * batch * new * k
        kernels += KERNELS_SAMPLE
    return Pass(flops, values * bytes_per_value, kernels)


def decoder_passes(decoder: str, cfg: TransformerConfig, tokens: int, batch: int, steps: int,
                   cond_tokens: int = 0, codebook_size: int = 1024, bytes_per_value: int = 4,
                   cache_copy: bool = True) -> list[Pass]:
    """The transformer passes of one decoder generating ``tokens`` visual tokens for ``batch`` clips.

    ``steps``: K for COMMIT / MaskGIT, the number of evaluations for diffusion (ignored for AR, which takes one
    step per token after its ``cond_tokens`` given ones).
    """
    seq = PREFIX + tokens
    if decoder in ("commit", "maskgit"):
        masked = transformer_pass(cfg, batch, seq, 0, codebook_size, bytes_per_value, sample=True)
        masked = replace(masked, kernels=masked.kernels - KERNELS_SAMPLE + KERNELS_MASKED_STEP)
        return [masked] * steps
    if decoder == "diffusion":
        return [transformer_pass(cfg, batch, seq, 0, codebook_size, bytes_per_value)] * steps
    if decoder == "ar":
        first = transformer_pass(cfg, batch, PREFIX + cond_tokens, 0, codebook_size, bytes_per_value, sample=True)
        return [first] + [transformer_pass(cfg, batch, 1, PREFIX + cond_tokens + i, codebook_size, bytes_per_value,
                                           sample=True, cache_copy=cache_copy)
                          for i in range(1, tokens - cond_tokens)]
    raise ValueError(f"unknown decoder {decoder!r}; choose from {DECODERS}")


def seconds(passes: list[Pass], hw: Hardware, launches: bool = True) -> float:
    """Roofline time of the passes on ``hw``: per pass max(compute, memory) (+ kernel launches)."""
    return sum(max(p.flops / hw.peak_flops, p.bytes / hw.bandwidth) + (p.kernels * hw.launch_s if launches else 0.0)
               for p in passes)


def bound(p: Pass, hw: Hardware) -> str:
    """Which roof limits a pass: "compute" or "memory"."""
    return "compute" if p.flops / hw.peak_flops >= p.bytes / hw.bandwidth else "memory"


class _ByteCounter(TorchDispatchMode):
    """Bytes of every operator's inputs and outputs (views and metadata ops move nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not func.is_view and func.__name__.split(".")[0] not in ("detach", "empty", "empty_like", "lift_fresh"):
            tensors, _ = tree_flatten((args, kwargs or {}, out))
            self.total += sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))
        return out


def count(fn: Callable[[], object]) -> Pass:
    """FLOPs (torch's counter: 2 per multiply-add) and operator bytes of ``fn()``; run it on meta tensors to
    count without computing."""
    bytes_counter = _ByteCounter()
    with FlopCounterMode(display=False) as flops, bytes_counter:
        fn()
    return Pass(float(flops.get_total_flops()), float(bytes_counter.total))


def tokenizer_decode_pass(cfg: TokenizerConfig, num_frames: int, resolution: int, batch: int) -> tuple[Pass, tuple]:
    """FLOPs and bytes of decoding ``batch`` clips' tokens to pixels with the 3D-VQ of ``cfg``, counted on the
    meta device; and the latent shape (t, h, w)."""
    with torch.device("meta"):
        tokenizer = build_tokenizer(cfg, DataConfig(num_frames=num_frames, resolution=resolution)).eval()
        ids = torch.zeros(batch, *tokenizer.latent_shape, dtype=torch.long)

        def decode() -> None:  # VQTokenizer.decode without its range check (a meta tensor has no values)
            tokenizer.from_output(tokenizer.decoder(tokenizer.quantizer.lookup(ids)))

        with torch.no_grad():
            counted = count(decode)
    return counted, tuple(tokenizer.latent_shape)  # the convolutions' weights are among their inputs


# operators that only change a tensor's metadata (no kernel on a GPU); they still cost the host a dispatch
METADATA_OPS = ("view", "_unsafe_view", "t", "detach", "permute", "transpose", "expand", "unsqueeze", "squeeze",
                "slice", "select", "split", "unbind", "alias", "as_strided", "lift_fresh", "_local_scalar_dense",
                "empty", "empty_like", "reshape")


class _OpCounter(TorchDispatchMode):
    """Operators dispatched, split into kernels (compute on a GPU) and metadata-only operators."""

    def __init__(self) -> None:
        super().__init__()
        self.kernels = self.metadata = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.__name__.split(".")[0] in METADATA_OPS:
            self.metadata += 1
        else:
            self.kernels += 1
        return func(*args, **(kwargs or {}))


def count_ops(fn: Callable[[], object]) -> tuple[int, int]:
    """(kernels, metadata operators) that ``fn()`` dispatches: what the host pays per step in eager PyTorch (issue
    27: the GPU profile's transformer step is launch-bound). Count on the CPU; the operator count does not depend on
    the batch or the widths."""
    counter = _OpCounter()
    with counter:
        fn()
    return counter.kernels, counter.metadata


def transformer_train_step(cfg: TransformerConfig, batch: int, tokens: int, codebook_size: int = 1024,
                           bytes_per_value: int = 2) -> Pass:
    """One training step of the bidirectional transformer over ``PREFIX + tokens`` positions: the forward's FLOPs
    and bytes three times (the backward computes two matmuls per forward matmul); kernels not counted here (see
    :func:`count_ops`)."""
    forward = transformer_pass(cfg, batch, PREFIX + tokens, 0, codebook_size, bytes_per_value)
    return Pass(3 * forward.flops, 3 * forward.bytes, 0)
