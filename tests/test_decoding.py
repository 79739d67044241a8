"""Decoding: Algorithm 1 (COMMIT), MaskGIT, and KV-cached autoregressive sampling."""

from __future__ import annotations

import pytest
import torch

from magvit.config import TransformerConfig
from magvit.generative.commit import gamma, mask_count
from magvit.generative.decoding import ar_decode, commit_decode, maskgit_decode, open_count, sample_logits
from magvit.generative.transformer import Transformer, Vocabulary

TINY = TransformerConfig(num_layers=2, hidden=32, heads=4, mlp=64, dropout=0.0)
N, P, K = 48, 2, 16  # visual tokens, prefix, codebook


def model(causal: bool = False, seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(TINY, Vocabulary(K), P + N, causal=causal).eval()


def inputs(b: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    vocab = Vocabulary(K)
    prefix = torch.stack([torch.full((b,), vocab.special("TASK_FRAME_PREDICTION")),
                          torch.full((b,), vocab.uncond_id)], dim=1)
    z_tilde = torch.randint(0, K, (b, N), generator=g)
    ispad = torch.ones(b, N, dtype=torch.bool)
    ispad[:, :12] = False  # a leading block of condition tokens (like FP's first latent frame)
    return prefix, z_tilde, ispad


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_commit_decoding_fills_every_position_and_follows_the_schedule():
    prefix, z_tilde, ispad = inputs()
    steps = 6
    result = commit_decode(model(), prefix, z_tilde, ispad, steps=steps, generator=gen(0), keep_history=True)
    assert result.tokens.shape == (3, N) and result.steps == steps
    assert result.tokens.min() >= 0 and result.tokens.max() < K  # no MASK left after K steps
    mask_id = Vocabulary(K).mask_id
    # step 0 sees the COMMIT canvas with every position selected: z~ on condition, MASK on padding
    first = result.history[0]["inputs"]
    assert torch.equal(first[~ispad], z_tilde[~ispad]) and (first[ispad] == mask_id).all()
    for t, record in enumerate(result.history[:-1]):
        expected = mask_count(gamma((t + 1) / steps), N).item()
        assert (record["open"] == expected).all(), (t, record["open"], expected)
        # the next step's input re-fills the open positions by Eq. 2 and keeps the fixed ones
        nxt = result.history[t + 1]["inputs"]
        opened = (nxt == mask_id) | ((nxt == z_tilde) & ~ispad)
        assert (opened.sum(1) >= expected).all()
        fixed_positions = nxt != mask_id
        assert torch.equal(nxt[fixed_positions & ispad], record["tokens"][fixed_positions & ispad])
    assert (result.history[-1]["open"] == 0).all()
    # tokens fixed after step t are never changed later
    for t in range(steps - 1):
        nxt_inputs = result.history[t + 1]["inputs"]
        still_fixed = (nxt_inputs != mask_id) & ispad
        assert torch.equal(result.tokens[still_fixed], result.history[t]["tokens"][still_fixed])


def test_same_seed_same_samples_other_seed_differs():
    prefix, z_tilde, ispad = inputs()
    m = model()
    a = commit_decode(m, prefix, z_tilde, ispad, generator=gen(5)).tokens
    b = commit_decode(m, prefix, z_tilde, ispad, generator=gen(5)).tokens
    c = commit_decode(m, prefix, z_tilde, ispad, generator=gen(6)).tokens
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_open_count_is_monotone_and_ends_at_zero():
    total, still = torch.tensor([64, 5]), torch.tensor([64, 5])
    counts = []
    for t in range(12):
        still = open_count(t, 12, total, still)
        counts.append(still.tolist())
    assert counts[-1] == [0, 0]
    for before, after in zip(counts, counts[1:], strict=False):
        assert all(a < b or b == 0 for a, b in zip(after, before, strict=True))
    # the ceil/floor switch reaches the schedule
    assert open_count(0, 12, torch.tensor([100]), torch.tensor([100]), "floor").item() == 99
    assert open_count(5, 12, torch.tensor([100]), torch.tensor([100]), "floor").item() == int(gamma(0.5) * 100)


def test_maskgit_decoding_keeps_condition_tokens():
    prefix, z_tilde, ispad = inputs()
    result = maskgit_decode(model(), prefix, z_tilde, ispad, steps=4, generator=gen(1), keep_history=True)
    assert torch.equal(result.tokens[~ispad], z_tilde[~ispad])
    mask_id = Vocabulary(K).mask_id
    first = result.history[0]["inputs"]
    assert (first[ispad] == mask_id).all() and torch.equal(first[~ispad], z_tilde[~ispad])
    assert result.tokens.max() < K
    assert (result.history[0]["open"] == mask_count(gamma(0.25), 36)).all()  # of the 36 to generate


def test_kv_cached_ar_equals_uncached_token_for_token():
    prefix, z_tilde, _ = inputs(b=2)
    m = model(causal=True)
    given = z_tilde[:, :12]
    cached = ar_decode(m, prefix, given, N, generator=gen(7), use_cache=True)
    uncached = ar_decode(m, prefix, given, N, generator=gen(7), use_cache=False)
    assert cached.steps == N - 12
    assert torch.equal(cached.tokens, uncached.tokens)
    assert torch.equal(cached.tokens[:, :12], given)
    topk = ar_decode(m, prefix, given, N, top_k=3, generator=gen(7))
    assert topk.tokens.shape == (2, N)


def test_sample_logits_top_k_and_temperature():
    logits = torch.tensor([[0.0, 5.0, 1.0, -2.0]]).repeat(500, 1)
    ids, log_p = sample_logits(logits, top_k=2, generator=gen(0))
    assert set(ids.tolist()) <= {1, 2}
    assert torch.all(log_p <= 0)
    cold, _ = sample_logits(logits, temperature=1e-3, generator=gen(0))
    assert (cold == 1).all()
    with pytest.raises(ValueError, match="temperature"):
        sample_logits(logits, temperature=0.0)
    with pytest.raises(ValueError, match="top_k"):
        sample_logits(logits, top_k=9)


def test_decoding_rejects_bad_input():
    prefix, z_tilde, ispad = inputs()
    m = model()
    bad = z_tilde.clone()
    bad[0, 0] = K  # a token id outside the codebook
    with pytest.raises(ValueError, match="codebook ids"):
        commit_decode(m, prefix, bad, ispad)
    with pytest.raises(ValueError, match="sequence length"):
        commit_decode(m, prefix, z_tilde[:, :-1], ispad[:, :-1])
    with pytest.raises(ValueError, match="ispad"):
        commit_decode(m, prefix, z_tilde, ispad.long())
    with pytest.raises(ValueError, match="causal transformer"):
        ar_decode(m, prefix, z_tilde[:, :4], N)
    with pytest.raises(ValueError, match="nothing to generate"):
        ar_decode(model(causal=True), prefix, z_tilde, N)
    with pytest.raises(ValueError, match="at least one step"):
        commit_decode(m, prefix, z_tilde, ispad, steps=0)


@pytest.fixture(scope="module")
def smoke_setup(tmp_path_factory):
    """The smoke profile with an untrained (seeded) real tokenizer in place of the trained one, so the
    transformer side is tested without paying for tokenizer training."""
    from magvit import profiles
    from magvit.generative import train as generative_train
    from magvit.infra.artifacts import ArtifactStore
    from magvit.tokenizer.model import build_tokenizer

    def untrained_tokenizer(profile, cfg=None, seed=0, store=None):
        torch.manual_seed(seed)
        return build_tokenizer(cfg or profile.tokenizer, profile.data).eval(), None

    patch = pytest.MonkeyPatch()
    patch.setattr(generative_train, "get_tokenizer", untrained_tokenizer)  # where get_transformer looks it up
    yield profiles.get("smoke", device="cpu"), ArtifactStore(tmp_path_factory.mktemp("cache"))
    patch.undo()


def test_train_then_generate_end_to_end_on_smoke(smoke_setup):
    from magvit import data
    from magvit.generative.train import get_transformer, with_steps

    p, store = smoke_setup
    cfg = with_steps(p, 3)
    model, log = get_transformer(p, "pushbot", ("FP", "OPC"), "commit", cfg=cfg, store=store)
    assert len(log) == 3 and {"refine", "mask", "recons", "ce", "loss"} <= set(log.columns)
    torch.testing.assert_close(torch.tensor((log["refine"] + log["mask"] + log["recons"]).values),
                               torch.tensor(log.ce.values), rtol=1e-5, atol=1e-5)
    again, log2 = get_transformer(p, "pushbot", ("FP", "OPC"), "commit", cfg=cfg, store=store)  # from the cache
    assert log2.equals(log)
    for a, b in zip(model.transformer.state_dict().values(), again.transformer.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    video, _ = data.get_batch(data.load("pushbot", "val", p.data.num_frames, p.data.resolution), range(2))
    result, cond = model.generate(video, "OPC", generator=gen(0))
    assert result.tokens.shape == cond.z.shape and result.tokens.max() < model.vocab.codebook_size
    assert model.decode(result.tokens).shape == video.shape
    with pytest.raises(ValueError, match="was not trained"):
        model.generate(video, "IPC")
    with pytest.raises(ValueError, match="unknown task"):
        model.generate(video, "ZZ")
    with pytest.raises(ValueError, match="does not fit a model"):
        model.generate(video, "FP", method="ar")


@pytest.mark.parametrize("condition", ["latent", "prefix", "ar"])
def test_baselines_train_and_generate(smoke_setup, condition):
    from magvit import data
    from magvit.generative.train import get_transformer, with_steps

    p, store = smoke_setup
    model, log = get_transformer(p, "pushbot", "FP", condition, cfg=with_steps(p, 2), store=store)
    assert len(log) == 2 and torch.isfinite(torch.tensor(log["loss"].values)).all()
    video, _ = data.get_batch(data.load("pushbot", "val", p.data.num_frames, p.data.resolution), range(2))
    result, cond = model.generate(video, "FP", generator=gen(1))
    assert result.tokens.shape == cond.z.shape
    if condition in ("latent", "ar"):  # condition tokens are given and kept
        assert torch.equal(result.tokens[~cond.ispad], cond.z_tilde[~cond.ispad])


def test_tokenizer_and_transformer_vocabularies_must_agree(smoke_setup):
    from magvit.generative.model import GenerativeConfig, MaskedVideoModel, build_transformer
    from magvit.tokenizer.model import build_tokenizer

    p, _ = smoke_setup
    tokenizer = build_tokenizer(p.tokenizer, p.data)
    cfg = GenerativeConfig(transformer=p.transformer, tokenizer=p.tokenizer, data=p.data)
    wrong = build_transformer(cfg, tokenizer.codebook_size * 2, tuple(tokenizer.latent_shape))
    with pytest.raises(ValueError, match="codebook has"):
        MaskedVideoModel(cfg, tokenizer, wrong)
    with pytest.raises(ValueError, match="unknown task"):
        GenerativeConfig(transformer=p.transformer, tokenizer=p.tokenizer, data=p.data, tasks=("FP", "XX"))
    with pytest.raises(ValueError, match="single-task"):
        GenerativeConfig(transformer=p.transformer, tokenizer=p.tokenizer, data=p.data, tasks=("FP", "FI"),
                         condition="ar")
