"""The ten tasks: condition regions, padding functions, latent regions / ispad, batch preparation."""

from __future__ import annotations

import pytest
import torch

from magvit import profiles
from magvit.generative.tasks import (
    TASKS,
    condition_region,
    condition_video,
    dynamic_starts,
    ispad,
    latent_condition,
    prepare_batch,
    prompt_id,
)
from magvit.generative.transformer import Vocabulary


def video(b: int = 2, t: int = 8, h: int = 8, w: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(b, 3, t, h, w, generator=torch.Generator().manual_seed(seed))


def test_unknown_task_lists_the_ten():
    with pytest.raises(ValueError, match="FP, FI, OPC, OPV, OPH, OPD, IPC, IPD, CG, CFP"):
        condition_region("XYZ", (8, 8, 8))
    assert len(TASKS) == 10


def test_condition_regions_on_a_small_grid():
    shape = (8, 8, 8)
    fp = condition_region("FP", shape, cond_frames=2)
    assert fp[:2].all() and not fp[2:].any()
    fi = condition_region("FI", shape, cond_frames=1)
    assert fi[0].all() and fi[7].all() and not fi[1:7].any()
    opc = condition_region("OPC", shape)
    assert opc[:, 2:6, 2:6].all() and opc.sum() == 8 * 16
    opv = condition_region("OPV", shape)
    assert opv[:, :, 2:6].all() and opv.sum() == 8 * 8 * 4
    oph = condition_region("OPH", shape)
    assert oph[:, 2:6, :].all() and oph.sum() == 8 * 8 * 4
    ipc = condition_region("IPC", shape)
    assert torch.equal(ipc, ~opc)
    starts = dynamic_starts(8, 8)
    assert starts.tolist() == [0, 1, 1, 2, 2, 3, 3, 4]  # round(linspace(0, W/2, T)), half to even
    opd = condition_region("OPD", shape)
    ipd = condition_region("IPD", shape)
    for t, s in enumerate(starts):
        assert opd[t, :, s:s + 4].all() and opd[t].sum() == 8 * 4
        assert not ipd[t, 2:6, s:s + 4].any() and ipd[t].sum() == 64 - 16
    assert not condition_region("CG", shape).any()
    assert torch.equal(condition_region("CFP", shape), condition_region("FP", shape))


def test_latent_regions_follow_the_supervoxels():
    # cpu geometry: 16 x 32 x 32 -> 4 x 8 x 8 (4x4x4 compression)
    v, lat = (16, 32, 32), (4, 8, 8)
    fp = latent_condition("FP", v, lat, cond_frames=1)
    assert fp[0].all() and not fp[1:].any()  # one condition frame -> first latent frame
    fi = latent_condition("FI", v, lat)
    assert fi[0].all() and fi[3].all() and not fi[1:3].any()
    opc = latent_condition("OPC", v, lat)
    assert opc[:, 2:6, 2:6].all() and opc.sum() == 4 * 16
    assert torch.equal(ispad("IPC", v, lat), opc)  # the hole holds only padding
    assert ispad("CG", v, lat).all()
    # paper geometry (Sec. 3.2): 128 px, 4x8x8 compression -> rows/cols 4..11 of 16
    opc_paper = latent_condition("OPC", (16, 128, 128), (4, 16, 16))
    assert opc_paper[:, 4:12, 4:12].all() and opc_paper.sum() == 4 * 64
    # a supervoxel is a condition token iff its pixel box meets the region (OPD: moving band)
    region = condition_region("OPD", v)
    latent = latent_condition("OPD", v, lat)
    for i, j, k in [(0, 0, 0), (1, 3, 5), (3, 7, 7), (2, 4, 1)]:
        box = region[4 * i:4 * i + 4, 4 * j:4 * j + 4, 4 * k:4 * k + 4]
        assert bool(latent[i, j, k]) == bool(box.any())
    with pytest.raises(ValueError, match="not a multiple"):
        latent_condition("FP", (16, 30, 32), (4, 8, 8))


def test_padding_functions():
    x = video(t=8)
    fp = condition_video(x, "FP", cond_frames=2)
    assert torch.equal(fp[:, :, :2], x[:, :, :2])
    assert torch.equal(fp[:, :, 5], x[:, :, 1])  # the last condition frame repeated
    fi = condition_video(x, "FI")
    torch.testing.assert_close(fi[:, :, 3], x[:, :, 0] * (1 - 3 / 7) + x[:, :, 7] * 3 / 7)
    assert torch.equal(fi[:, :, 7], x[:, :, 7])
    opc = condition_video(x, "OPC")
    assert torch.equal(opc[..., 2:6, 2:6], x[..., 2:6, 2:6])
    assert torch.equal(opc[..., 0, 3], x[..., 2, 3])  # edge: nearest region row
    assert torch.equal(opc[..., 7, 7], x[..., 5, 5])  # corner: nearest region corner
    opv = condition_video(x, "OPV")
    assert torch.equal(opv[..., :, 0], x[..., :, 2]) and torch.equal(opv[..., :, 2:6], x[..., :, 2:6])
    oph = condition_video(x, "OPH")
    assert torch.equal(oph[..., 7, :], x[..., 5, :])
    for name in ("OPD", "IPC", "IPD"):
        region = condition_region(name, (8, 8, 8))
        v = condition_video(x, name)
        assert (v[:, :, ~region] == 0).all() and torch.equal(v[:, :, region], x[:, :, region])
    for name in TASKS:  # V~ always equals V on the condition region
        region = condition_region(name, (8, 8, 8))
        assert torch.equal(condition_video(x, name)[:, :, region], x[:, :, region])
    with pytest.raises(ValueError, match="values must lie in"):
        condition_video(x * 2, "FP")


def test_inpainting_token_switch():
    vocab = Vocabulary(16)
    assert prompt_id("IPC", vocab) == vocab.special("TASK_INPAINTING")  # paper / bug patch default
    assert prompt_id("IPD", vocab, "outpainting") == prompt_id("OPC", vocab)  # released code
    assert prompt_id("CFP", vocab) == prompt_id("FP", vocab)
    with pytest.raises(ValueError, match="inpainting_token"):
        prompt_id("IPC", vocab, "other")


@pytest.fixture(scope="module")
def smoke_tokenizer():
    from magvit.tokenizer.model import build_tokenizer

    p = profiles.get("smoke", device="cpu")
    torch.manual_seed(0)
    return build_tokenizer(p.tokenizer, p.data).eval(), p


def test_prepare_batch_with_the_smoke_tokenizer(smoke_tokenizer):
    tok, p = smoke_tokenizer
    vocab = Vocabulary(tok.codebook_size, num_classes=4)
    r = p.data.resolution
    x = torch.rand(3, 3, p.data.num_frames, r, r, generator=torch.Generator().manual_seed(1))
    cond = prepare_batch(tok, x, ["FP", "OPC", "CG"], vocab, labels=torch.tensor([1, 2, 3]))
    t, h, w = tok.latent_shape
    assert cond.z.shape == cond.z_tilde.shape == cond.ispad.shape == (3, t * h * w)
    assert torch.equal(cond.ispad[0].view(t, h, w), ispad("FP", (p.data.num_frames, r, r), (t, h, w)))
    assert cond.ispad[2].all()
    # prefix: task prompt and class token; only the class-conditional task sees its label
    assert cond.prefix[:, 0].tolist() == [prompt_id(n, vocab) for n in ("FP", "OPC", "CG")]
    assert cond.prefix[:, 1].tolist() == [vocab.uncond_id, vocab.uncond_id, vocab.codebook_size + 3]
    # the tokens are the tokenizer's tokens of V and V~
    torch.testing.assert_close(cond.z[:1], tok.encode(x[:1]).flatten(1))
    torch.testing.assert_close(cond.z_tilde[1:2], tok.encode(cond.condition_video[1:2]).flatten(1))
    with pytest.raises(ValueError, match="need class labels"):
        prepare_batch(tok, x, "CG", vocab)
    with pytest.raises(ValueError, match="codebook has"):
        prepare_batch(tok, x, "FP", Vocabulary(tok.codebook_size + 1))
    with pytest.raises(ValueError, match="unknown task"):
        prepare_batch(tok, x, "XX", vocab)
    with pytest.raises(ValueError, match="3 videos"):
        prepare_batch(tok, x, ["FP", "FP"], vocab)
