"""COMMIT: the schedule, Eq. 2 on hand-built cases, the mask count, the Eq. 4 loss split, baselines."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from magvit.generative.commit import (
    GIVEN,
    MASK,
    RECONS,
    REFINE,
    commit_kinds,
    commit_mask,
    corrupt,
    cutoff,
    gamma,
    latent_mask,
    loss_terms,
    mask_count,
    prefix_tokens,
)

MASK_ID = 99


def test_gamma_is_the_clipped_cosine_schedule():
    assert gamma(0.0) == 1.0
    assert gamma(1.0) == 1e-6
    assert gamma(0.5) == pytest.approx(math.cos(math.pi / 4))
    r = torch.linspace(0, 1, 11)
    g = gamma(r)
    assert torch.all(g[1:] <= g[:-1]) and g.min() >= 1e-6 and g.max() <= 1
    torch.testing.assert_close(g[:-1], torch.cos(math.pi / 2 * r[:-1]))


def test_mask_count_ceil_paper_vs_floor_code():
    assert mask_count(0.31, 10, "ceil").item() == 4
    assert mask_count(0.31, 10, "floor").item() == 3
    assert mask_count(0.3, 10, "ceil").item() == 3  # exact products are not rounded up
    assert mask_count(1e-6, 256, "ceil").item() == 1 and mask_count(1e-6, 256, "floor").item() == 1
    assert mask_count(1.0, 256).item() == 256
    assert mask_count(torch.tensor([0.5, 0.01]), torch.tensor([10, 10])).tolist() == [5, 1]
    with pytest.raises(ValueError, match="mask count mode"):
        mask_count(0.5, 10, "round")


def test_eq2_on_a_hand_built_case():
    z = torch.tensor([10, 11, 12, 13, 14, 15])
    z_tilde = torch.tensor([20, 21, 22, 23, 24, 25])
    ispad = torch.tensor([False, True, False, True, False, True])
    s = torch.tensor([0.1, 0.2, 0.9, 0.8, 0.3, 0.5])
    s_star = 0.5  # selected: positions 0, 1, 4, 5
    out = commit_mask(z, z_tilde, ispad, s, s_star, MASK_ID)
    # selected & condition -> z~; selected & padding -> MASK; not selected -> z
    assert out.tolist() == [20, MASK_ID, 12, 13, 24, MASK_ID]
    kinds = commit_kinds(ispad, s, s_star)
    assert kinds.tolist() == [REFINE, MASK, RECONS, RECONS, REFINE, MASK]
    # elementwise on any shape, s* broadcast per example
    out2 = commit_mask(z.view(2, 3), z_tilde.view(2, 3), ispad.view(2, 3), s.view(2, 3),
                       torch.tensor([[0.0], [1.0]]), MASK_ID)
    assert out2.tolist() == [[10, 11, 12], [MASK_ID, 24, MASK_ID]]


def test_eq2_rejects_mismatched_inputs():
    z = torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match="same shape"):
        commit_mask(z, z[:3], torch.zeros(4, dtype=torch.bool), torch.rand(4), 0.5, MASK_ID)
    with pytest.raises(TypeError, match="bool"):
        commit_mask(z, z, torch.zeros(4), torch.rand(4), 0.5, MASK_ID)


def test_cutoff_is_the_kth_smallest_score():
    s = torch.tensor([[0.5, 0.1, 0.9, 0.3], [0.2, 0.8, 0.4, 0.6]])
    assert cutoff(s, torch.tensor([2, 3])).flatten().tolist() == pytest.approx([0.3, 0.6])
    with pytest.raises(ValueError, match="mask counts"):
        cutoff(s, 5)


@pytest.mark.parametrize("mode", ["ceil", "floor"])
def test_corrupted_count_equals_the_mask_count(mode):
    torch.manual_seed(0)
    b, n = 64, 37
    z = torch.randint(0, 50, (b, n))
    z_tilde = torch.randint(0, 50, (b, n))
    ispad = torch.rand(b, n) < 0.6
    ratio = gamma(torch.rand(b))
    inputs, kinds = corrupt(z, z_tilde, ispad, ratio, MASK_ID, "commit", mode)
    selected = (kinds != RECONS).sum(1)
    expected = [max(1, min(n, (math.ceil if mode == "ceil" else math.floor)(float(r) * n))) for r in ratio.double()]
    assert selected.tolist() == expected
    assert torch.equal(inputs == MASK_ID, kinds == MASK)
    assert torch.equal(inputs[kinds == REFINE], z_tilde[kinds == REFINE])
    assert torch.equal(inputs[kinds == RECONS], z[kinds == RECONS])
    assert not (ispad & (kinds == REFINE)).any() and not (~ispad & (kinds == MASK)).any()


def test_loss_terms_sum_to_the_total_cross_entropy():
    torch.manual_seed(1)
    b, n, k = 4, 12, 7
    logits = torch.randn(b, n, k)
    z = torch.randint(0, k, (b, n))
    kinds = torch.randint(0, 3, (b, n))
    terms = loss_terms(logits, z, kinds, "mask+recons+refine")
    total = F.cross_entropy(logits.flatten(0, 1), z.flatten())
    torch.testing.assert_close(terms["refine"] + terms["mask"] + terms["recons"], total)
    torch.testing.assert_close(terms["ce"], total)
    torch.testing.assert_close(terms["loss"], total)  # all N positions weighted 1, normalised by N
    # L_mask only: the mean CE over the [MASK] positions of each example, averaged over the batch
    ce = F.cross_entropy(logits.flatten(0, 1), z.flatten(), reduction="none").view(b, n)
    mask = (kinds == MASK).float()
    expected = ((ce * mask).sum(1) / mask.sum(1)).mean()
    torch.testing.assert_close(loss_terms(logits, z, kinds, "mask")["loss"], expected)
    both = ((kinds == MASK) | (kinds == RECONS)).float()
    torch.testing.assert_close(loss_terms(logits, z, kinds, "mask+recons")["loss"],
                               ((ce * both).sum(1) / both.sum(1)).mean())
    with pytest.raises(ValueError, match="losses must be one of"):
        loss_terms(logits, z, kinds, "refine")


def test_loss_gradient_only_flows_from_the_chosen_terms():
    logits = torch.randn(1, 3, 5, requires_grad=True)
    z = torch.tensor([[0, 1, 2]])
    kinds = torch.tensor([[MASK, REFINE, RECONS]])
    loss_terms(logits, z, kinds, "mask")["loss"].backward()
    assert logits.grad[0, 0].abs().sum() > 0
    assert logits.grad[0, 1:].abs().sum() == 0


def test_latent_masking_never_masks_condition_positions():
    torch.manual_seed(2)
    b, n = 16, 20
    z = torch.randint(0, 50, (b, n))
    ispad = torch.zeros(b, n, dtype=torch.bool)
    ispad[:, 5:] = True  # first 5 positions are condition
    ratio = torch.full((b,), 0.5)
    inputs, kinds = corrupt(z, z, ispad, ratio, MASK_ID, "latent", "ceil")
    assert torch.equal(inputs[:, :5], z[:, :5])  # placed unmasked: the real tokens in training
    assert (kinds[:, :5] == GIVEN).all()
    assert ((kinds == MASK).sum(1) == math.ceil(0.5 * 15)).all()
    # the hand case of the function itself
    inp, kd = latent_mask(torch.tensor([1, 2, 3]), torch.tensor([False, True, True]),
                          torch.tensor([0.0, 0.1, 0.9]), 0.5, MASK_ID)
    assert inp.tolist() == [1, MASK_ID, 3] and kd.tolist() == [GIVEN, MASK, RECONS]


def test_prefix_tokens_and_modes():
    z_tilde = torch.tensor([[5, 6, 7, 8], [1, 2, 3, 4]])
    ispad = torch.tensor([[False, False, True, True], [False, False, True, True]])
    assert prefix_tokens(z_tilde, ispad, 42).tolist() == [[5, 6, 42], [1, 2, 42]]
    with pytest.raises(ValueError, match="same number of condition tokens"):
        prefix_tokens(z_tilde, torch.tensor([[False, True, True, True], [False, False, True, True]]), 42)
    # prefix mode masks over all N positions (condition lives in the prefix)
    inputs, kinds = corrupt(z_tilde, z_tilde, ispad, torch.ones(2), MASK_ID, "prefix")
    assert (inputs == MASK_ID).all() and (kinds == MASK).all()
    with pytest.raises(ValueError, match="condition must be one of"):
        corrupt(z_tilde, z_tilde, ispad, torch.ones(2), MASK_ID, "cond->cond")
    with pytest.raises(ValueError, match="next-token"):
        corrupt(z_tilde, z_tilde, ispad, torch.ones(2), MASK_ID, "ar")
