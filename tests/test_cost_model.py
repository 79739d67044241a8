"""The generation cost model (magvit.experiments.cost_model) against torch's own counting, and its roofline."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from magvit.config import TokenizerConfig, TransformerConfig
from magvit.experiments import cost_model
from magvit.generative.decoding import commit_decode, sample_logits
from magvit.generative.transformer import KVCache, Transformer, Vocabulary
from magvit.infra import hardware

CFG = TransformerConfig(num_layers=2, hidden=64, heads=2, mlp=256, dropout=0.0)


def attention_flops(cfg: TransformerConfig, batch: int, new: int, keys: int) -> int:
    return cfg.num_layers * 4 * batch * new * keys * cfg.hidden


def test_transformer_flops_are_the_counters_plus_the_attention_it_misses():
    # torch's FLOP counter has no formula for the CPU flash-attention kernel: it counts every matmul but those
    model = Transformer(CFG, Vocabulary(128), 34).eval()
    tokens = torch.randint(0, 128, (3, 34))
    with torch.no_grad():
        counted = cost_model.count(lambda: model(tokens))
    predicted = cost_model.transformer_pass(CFG, 3, 34, codebook_size=128)
    assert predicted.flops == counted.flops + attention_flops(CFG, 3, 34, 34)
    # bytes: the model's simple operator accounting within 35% of the operators' actual inputs + outputs
    assert counted.bytes == pytest.approx(predicted.bytes, rel=0.35)


def test_cached_step_flops_grow_with_the_cache():
    model = Transformer(CFG, Vocabulary(128), 40, causal=True).eval()
    cache = KVCache()
    with torch.no_grad():
        model(torch.randint(0, 128, (2, 20)), cache)
        counted = cost_model.count(lambda: model(torch.randint(0, 128, (2, 1)), cache))
    predicted = cost_model.transformer_pass(CFG, 2, 1, past=20, codebook_size=128)
    assert predicted.flops == counted.flops + attention_flops(CFG, 2, 1, 21)
    later = cost_model.transformer_pass(CFG, 2, 1, past=30, codebook_size=128, cache_copy=True)
    assert later.flops > predicted.flops and later.bytes > predicted.bytes


def test_decoders_take_their_number_of_passes():
    assert len(cost_model.decoder_passes("commit", CFG, 64, 1, 12)) == 12
    assert len(cost_model.decoder_passes("diffusion", CFG, 64, 1, 256)) == 256
    assert len(cost_model.decoder_passes("ar", CFG, 64, 1, 12, cond_tokens=16)) == 64 - 16
    with pytest.raises(ValueError, match="unknown decoder"):
        cost_model.decoder_passes("beam", CFG, 64, 1, 12)


class _OpCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        return func(*args, **(kwargs or {}))


def dispatched(fn) -> int:
    with _OpCounter() as counter:
        fn()
    return counter.ops


@pytest.mark.parametrize("layers", [1, 3])
def test_operator_counts_are_what_the_decoders_dispatch(layers):
    # the launch term of the roofline is only as good as these counts: recount them on the real decoding code
    cfg = replace(CFG, num_layers=layers)
    vocab, tokens, cond = Vocabulary(64), 16, 4
    bert, causal = Transformer(cfg, vocab, 2 + tokens).eval(), Transformer(cfg, vocab, 2 + tokens, causal=True).eval()
    prefix = torch.tensor([[vocab.special("TASK_FRAME_PREDICTION"), vocab.uncond_id]] * 2)
    z = torch.randint(0, 64, (2, tokens))
    ispad = torch.ones(2, tokens, dtype=torch.bool)
    ispad[:, :cond] = False
    commit, ar = (cost_model.decoder_passes(d, cfg, tokens, 2, 1, cond_tokens=cond, codebook_size=64)
                  for d in ("commit", "ar"))
    with torch.inference_mode():
        assert dispatched(lambda: commit_decode(bert, prefix, z, ispad, steps=1)) == commit[0].kernels
        cache = KVCache()
        causal(torch.cat([prefix, z[:, :cond]], 1), cache)
        assert dispatched(lambda: sample_logits(causal(z[:, :1], cache)[:, -1])) == ar[1].kernels
        forward = cost_model.decoder_passes("diffusion", cfg, tokens, 2, 1, codebook_size=64)[0]
        assert dispatched(lambda: bert(torch.cat([prefix, z], 1))) == forward.kernels


def test_roofline_takes_the_slower_roof_and_counts_launches():
    hw = cost_model.Hardware("t", "test", peak_flops=1e9, bandwidth=1e9, bytes_per_value=4, launch_s=1e-3,
                             source="test")
    compute, memory = cost_model.Pass(2e9, 1e9, kernels=0), cost_model.Pass(1e9, 3e9, kernels=10)
    assert cost_model.seconds([compute], hw) == pytest.approx(2.0)
    assert cost_model.seconds([memory], hw) == pytest.approx(3.0 + 0.01)
    assert cost_model.bound(compute, hw) == "compute" and cost_model.bound(memory, hw) == "memory"


def test_one_token_steps_are_memory_bound_and_full_passes_compute_bound_at_fp32():
    b = replace(CFG, num_layers=12, hidden=768, heads=12, mlp=3072)
    h100 = cost_model.H100_SXM_FP32  # ridge 20 FLOP/byte (bf16 tensor cores: 295, above an unfused pass's ~230)
    assert cost_model.bound(cost_model.transformer_pass(b, 1, 1, past=500), h100) == "memory"
    assert cost_model.bound(cost_model.transformer_pass(b, 8, 1026), h100) == "compute"


def test_tokenizer_decode_is_counted_on_the_meta_device():
    cfg = TokenizerConfig(filters=8, channel_multipliers=(1, 2), temporal_downsample=(True,), codebook_size=16,
                          embedding_dim=8)
    one, latent = cost_model.tokenizer_decode_pass(cfg, 8, 16, 1)
    two, _ = cost_model.tokenizer_decode_pass(cfg, 8, 16, 2)
    assert latent == (4, 8, 8)
    assert two.flops == 2 * one.flops and one.flops > 0
    assert one.bytes < two.bytes < 2 * one.bytes  # the weights are read once per pass, activations per clip


def test_cpu_peak_is_cores_clock_lanes_fma():
    peak = hardware.cpu_peak(cores=2, fma_units=2)
    assert peak.gflops == pytest.approx(2 * peak.clock_ghz * peak.lanes * 2 * 2)
    assert peak.lanes in (4, 8, 16)


def test_count_ops_splits_kernels_from_metadata_and_a_training_step_is_three_forwards():
    model = Transformer(CFG, Vocabulary(128), 34).eval()
    tokens = torch.randint(0, 128, (3, 34))
    with torch.no_grad():
        kernels, metadata = cost_model.count_ops(lambda: model(tokens))
    assert kernels > CFG.num_layers * 4 and metadata > 0  # four linear layers per block at least, plus views
    more = torch.randint(0, 128, (7, 34))
    with torch.no_grad():
        again = cost_model.count_ops(lambda: model(more))
    assert again == (kernels, metadata)  # the count does not depend on the batch
    step = cost_model.transformer_train_step(CFG, 3, 32, codebook_size=128)
    assert step.flops == 3 * cost_model.transformer_pass(CFG, 3, 34, codebook_size=128, bytes_per_value=2).flops
