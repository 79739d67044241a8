"""The bidirectional / causal transformer: layout, sizes, input checks, KV cache."""

from __future__ import annotations

import pytest
import torch

from magvit.config import TransformerConfig
from magvit.generative.transformer import (
    NUM_SPECIAL,
    KVCache,
    Transformer,
    Vocabulary,
    count_params,
    transformer_b,
    transformer_l,
)

TINY = TransformerConfig(num_layers=2, hidden=32, heads=4, mlp=64, dropout=0.0)


def tiny(seq_len: int = 10, causal: bool = False, codebook: int = 16, seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(TINY, Vocabulary(codebook, num_classes=3), seq_len, causal=causal).eval()


def test_vocabulary_layout_matches_official_ids():
    bair_mt = Vocabulary(1024)  # BAIR multi-task: 1024 + 1 + 16 = 1041 (official task_registry.py)
    assert bair_mt.size == 1041
    assert bair_mt.uncond_id == 1024
    assert bair_mt.mask_id == bair_mt.size - 1  # MASK = -1
    assert bair_mt.sep_id == bair_mt.size - 2  # SEP = -2
    assert bair_mt.special("TASK_FRAME_PREDICTION") == bair_mt.size - 4
    assert bair_mt.special("TASK_INPAINTING") == bair_mt.size - 7
    ucf = Vocabulary(1024, num_classes=101)
    assert ucf.size == 1024 + 102 + NUM_SPECIAL
    ids = ucf.class_ids(torch.tensor([0, 100, -1]), 3, "cpu")
    assert ids.tolist() == [1024, 1124, ucf.uncond_id]
    with pytest.raises(ValueError, match="class labels"):
        ucf.class_ids(torch.tensor([101]), 1, "cpu")
    with pytest.raises(ValueError, match="unknown special token"):
        ucf.special("CLS")


def test_paper_sizes_match_parameter_counts():
    # paper: MAGVIT-B = 41M (3D-VQ) + 87M (transformer) = 128M; MAGVIT-L = 464M in total
    with torch.device("meta"):
        b = Transformer(transformer_b(), Vocabulary(1024), 1026)
        large = Transformer(transformer_l(), Vocabulary(1024), 1026)
    assert 86e6 < count_params(b) < 88.5e6
    # the L tokenizer (filters 128) is ~4x the B one (41M): 464M - 4 x 41M = 300M, within 3%
    assert abs(count_params(large) - (464e6 - 4 * 41e6)) / 300e6 < 0.03


def test_paper_sizes_with_the_real_tokenizer():
    from dataclasses import replace

    from magvit import profiles
    from magvit.tokenizer.model import build_tokenizer

    paper = profiles.get("paper", device="cpu")
    with torch.device("meta"):
        vq_b = build_tokenizer(paper.tokenizer, paper.data)
        vq_l = build_tokenizer(replace(paper.tokenizer, filters=128), paper.data)
        b = Transformer(paper.transformer, Vocabulary(paper.tokenizer.codebook_size), 1026)
        large = Transformer(transformer_l(), Vocabulary(paper.tokenizer.codebook_size), 1026)
    total_b = count_params(vq_b) + count_params(b)
    total_l = count_params(vq_l) + count_params(large)
    assert abs(total_b - 128e6) / 128e6 < 0.05, total_b
    assert abs(total_l - 464e6) / 464e6 < 0.05, total_l


def test_forward_shapes_and_only_code_logits():
    model = tiny()
    tokens = torch.randint(0, model.vocab.size, (3, 10))
    logits = model(tokens)
    assert logits.shape == (3, 10, 16)
    assert torch.isfinite(logits).all()


def test_bad_input_raises_clear_errors():
    model = tiny()
    with pytest.raises(ValueError, match="exactly 10 tokens"):
        model(torch.zeros(2, 9, dtype=torch.long))
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 36\)"):
        model(torch.full((2, 10), model.vocab.size, dtype=torch.long))
    with pytest.raises(ValueError, match="token ids"):
        model(torch.full((2, 10), -1, dtype=torch.long))
    with pytest.raises(TypeError, match="LongTensor"):
        model(torch.zeros(2, 10))
    with pytest.raises(ValueError, match=r"\[B, L\]"):
        model(torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValueError, match="KV cache only applies"):
        model(torch.zeros(1, 10, dtype=torch.long), KVCache())
    with pytest.raises(ValueError, match="not divisible"):
        Transformer(TransformerConfig(hidden=30, heads=4), Vocabulary(16), 4)
    causal = tiny(causal=True)
    with pytest.raises(ValueError, match="exceeds the 10 positions"):
        causal(torch.zeros(1, 11, dtype=torch.long))


def test_bidirectional_sees_the_future_causal_does_not():
    tokens = torch.randint(0, 16, (2, 10))
    changed = tokens.clone()
    changed[:, 7] = (changed[:, 7] + 1) % 16
    bert, causal = tiny(), tiny(causal=True)
    assert not torch.allclose(bert(tokens)[:, :7], bert(changed)[:, :7])
    torch.testing.assert_close(causal(tokens)[:, :7], causal(changed)[:, :7])
    assert not torch.allclose(causal(tokens)[:, 7:], causal(changed)[:, 7:])


def test_kv_cache_matches_full_causal_forward():
    model = tiny(causal=True)
    tokens = torch.randint(0, 16, (2, 10))
    full = model(tokens)
    cache = KVCache()
    parts = [model(tokens[:, :4], cache)]  # prefill 4, then 3 new at once, then one at a time
    parts.append(model(tokens[:, 4:7], cache))
    for j in range(7, 10):
        parts.append(model(tokens[:, j:j + 1], cache))
    assert cache.length == 10
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)


def test_seeded_init_repeats_and_weights_are_tied():
    a, b = tiny(seed=3), tiny(seed=3)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    std = a.tok_emb.weight.std().item()
    assert 0.01 < std < 0.025 and a.tok_emb.weight.abs().max() <= 0.04 + 1e-6  # truncated N(0, 0.02)
    # the output head has no projection of its own: changing the embedding changes the logits
    tokens = torch.randint(0, 16, (1, 10))
    before = a(tokens)
    with torch.no_grad():
        a.tok_emb.weight[:16] += 0.1
    assert not torch.allclose(before, a(tokens))


def test_compiles_without_graph_break_and_matches_eager():
    # the MFU benchmark compiles forward with fullgraph=True: check_tokens must not read ids on the host there
    model = tiny()
    tokens = torch.randint(0, model.vocab.size, (2, 10))
    compiled = torch.compile(model, fullgraph=True, dynamic=False)
    assert (compiled(tokens) - model(tokens)).abs().max() < 1e-5


def test_factorized_positions_are_the_sum_of_frame_row_and_column_vectors():
    from dataclasses import replace
    cfg = replace(TINY, position="factorized")
    torch.manual_seed(0)
    model = Transformer(cfg, Vocabulary(16, num_classes=3), 2 + 2 * 3 * 4, grid=(2, 3, 4)).eval()
    table = model.position_table()
    assert table.shape == (26, 32)
    torch.testing.assert_close(table[:2], model.prefix_pos.weight)
    # visual token (t=1, h=2, w=3) sits at 2 + 1*12 + 2*4 + 3 = 25
    torch.testing.assert_close(table[25], model.t_pos.weight[1] + model.h_pos.weight[2] + model.w_pos.weight[3])
    assert model(torch.randint(0, 16, (2, 26))).shape == (2, 26, 16)
    # the causal twin with factorized positions still matches its KV-cached sampling
    torch.manual_seed(0)
    causal = Transformer(cfg, Vocabulary(16, num_classes=3), 26, causal=True, grid=(2, 3, 4)).eval()
    tokens = torch.randint(0, 16, (2, 26))
    cache = KVCache()
    parts = [causal(tokens[:, :5], cache)] + [causal(tokens[:, j:j + 1], cache) for j in range(5, 26)]
    torch.testing.assert_close(torch.cat(parts, dim=1), causal(tokens), rtol=1e-5, atol=1e-5)


def test_factorized_positions_and_norm_check_their_arguments():
    from dataclasses import replace
    vocab = Vocabulary(16, num_classes=3)
    with pytest.raises(ValueError, match="factorized positions need the latent grid"):
        Transformer(replace(TINY, position="factorized"), vocab, 26)
    with pytest.raises(ValueError, match="factorized positions need the latent grid"):
        Transformer(replace(TINY, position="factorized"), vocab, 27, grid=(2, 3, 4))  # a prefix-mode length
    with pytest.raises(ValueError, match="position must be one of"):
        Transformer(replace(TINY, position="sincos"), vocab, 10)
    with pytest.raises(ValueError, match="norm must be one of"):
        Transformer(replace(TINY, norm="sandwich"), vocab, 10)


def test_pre_ln_differs_from_post_ln_and_keeps_the_official_default_keys():
    from dataclasses import replace

    from magvit.infra.artifacts import config_key
    torch.manual_seed(0)
    pre = Transformer(replace(TINY, norm="pre"), Vocabulary(16, num_classes=3), 10).eval()
    assert "final_ln.weight" in pre.state_dict() and "final_ln.weight" not in tiny().state_dict()
    tokens = torch.randint(0, 16, (2, 10))
    post = tiny()
    post.load_state_dict({k: v for k, v in pre.state_dict().items() if k in post.state_dict()})
    assert not torch.allclose(pre(tokens), post(tokens))
    # the new fields at their defaults leave every cached model's key as it was; set, they make a new key
    from magvit.infra.artifacts import config_dict
    assert "position" not in config_dict(TINY) and "norm" not in config_dict(TINY)
    assert config_key(replace(TINY, norm="pre"), 0) != config_key(TINY, 0)
    assert config_key(replace(TINY, position="factorized"), 0) != config_key(TINY, 0)


def test_class_on_every_token_reaches_each_visual_token_directly():
    from dataclasses import replace
    cfg = replace(TINY, class_input="every_token", num_layers=0)  # no attention: only the input can carry c
    vocab = Vocabulary(16, num_classes=3)
    torch.manual_seed(0)
    model = Transformer(cfg, vocab, 10).eval()
    tokens = torch.randint(0, 16, (1, 10))
    tokens[0, 1] = vocab.class_ids(torch.tensor([0]), 1, "cpu")[0]
    other = tokens.clone()
    other[0, 1] = vocab.class_ids(torch.tensor([2]), 1, "cpu")[0]
    assert not torch.allclose(model(tokens)[:, 2:], model(other)[:, 2:])  # every visual token sees the class
    plain = Transformer(replace(cfg, class_input="token"), vocab, 10).eval()
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(plain(tokens)[:, 2:], plain(other)[:, 2:])  # the paper's: only through attention
    with pytest.raises(ValueError, match="class_input must be one of"):
        Transformer(replace(TINY, class_input="adaln"), vocab, 10)
    with pytest.raises(ValueError, match="KV-cached causal"):
        Transformer(replace(TINY, class_input="every_token"), vocab, 10, causal=True)
