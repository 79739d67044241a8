"""The proxy evaluator: trains, caches, gives features/posteriors; the corruptions behave."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from magvit import data, profiles
from magvit.infra.artifacts import ArtifactStore
from magvit.metrics import get_evaluator, proxy_fvd, validation
from magvit.metrics.validation import monotonicity, perturb, pixel_features


def test_evaluator_trains_caches_and_evaluates(tmp_path):
    p = profiles.get("smoke", device="cpu")
    store = ArtifactStore(tmp_path)
    ev = get_evaluator(p, seed=0, store=store)
    assert len(ev.log) == p.evaluator.steps and np.isfinite(ev.log["total"]).all()
    video, _ = data.get_batch(data.load("shapes", "val", 16, p.data.resolution), range(6))
    feats = ev.features(video)
    assert feats.shape == (6, p.evaluator.feature_dim)
    probs = ev.class_probs(video)
    assert probs.shape == (6, data.num_classes("shapes")) and np.allclose(probs.sum(1), 1)
    again = get_evaluator(p, seed=0, store=store)  # loaded from the cache, not retrained
    assert np.allclose(again.features(video), feats)
    result = proxy_fvd(ev, video, video.flip(2), num_bootstrap=5)
    assert result.n_real == 6 and np.isfinite(result.value)
    with pytest.raises(ValueError, match="channels"):
        ev.features(video.permute(0, 2, 1, 3, 4))


def test_corruptions():
    g = torch.Generator().manual_seed(0)
    video = torch.rand(4, 3, 8, 16, 16, generator=g)
    assert torch.equal(perturb(video, "noise", 0.0), video)
    frozen = perturb(video, "freeze", 1.0)
    assert torch.equal(frozen[:, :, 5], frozen[:, :, 0])
    half = perturb(video, "freeze", 0.5)
    assert torch.equal(half[:, :, :4], video[:, :, :4]) and torch.equal(half[:, :, 7], video[:, :, 3])
    shuffled = perturb(video, "shuffle", 0.5, seed=1)
    assert not torch.equal(shuffled[0], video[0]) and torch.equal(shuffled[3], video[3])
    assert sorted(shuffled[0].sum((0, 2, 3)).tolist()) == pytest.approx(sorted(video[0].sum((0, 2, 3)).tolist()))
    blurred = perturb(video, "blur", 1.0)
    assert blurred.std() < video.std() and abs(blurred.mean() - video.mean()) < 0.01
    swapped = perturb(video, "class_swap", 0.5, swap_video=torch.zeros_like(video))
    assert (swapped[:2] == 0).all() and torch.equal(swapped[2:], video[2:])
    with pytest.raises(ValueError, match="unknown corruption"):
        perturb(video, "jpeg", 0.5)
    with pytest.raises(ValueError, match="level"):
        perturb(video, "noise", 2.0)
    assert pixel_features(video).shape == (4, 96)


def test_monotonicity_rule():
    import pandas as pd

    curves = pd.DataFrame({"corruption": ["a"] * 3 + ["b"] * 3, "level": [0, 0.5, 1] * 2,
                           "fvd_proxy": [1.0, 2.0, 3.0, 1.0, 3.0, 2.0]})
    mono = monotonicity(curves).set_index("corruption")
    assert bool(mono.loc["a", "monotonic"]) and not bool(mono.loc["b", "monotonic"])
    assert mono.loc["a", "ratio_1_to_0"] == pytest.approx(3.0)
    assert validation.CORRUPTIONS == ("noise", "blur", "freeze", "shuffle", "class_swap")
