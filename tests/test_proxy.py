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


def test_motion_trunk_keeps_time_and_feature_width():
    """Space is pooled 8x, time not at all; mean + max pooling gives 8 x width; the features are feature_dim wide."""
    from magvit.config import EvaluatorConfig
    from magvit.metrics.proxy import MeanMaxPool, ProxyNet, motion_trunk

    trunk = motion_trunk(4)
    x = torch.rand(2, 6, 7, 16, 16)
    before_pool = trunk[:-1](x)
    assert before_pool.shape == (2, 16, 7, 2, 2)  # 4 x width channels, all 7 time steps, 16 / 8 pixels
    assert isinstance(trunk[-1], MeanMaxPool) and trunk(x).shape == (2, 32)
    net = ProxyNet(EvaluatorConfig(width=4, feature_dim=12)).eval()
    video = torch.rand(3, 3, 8, 16, 16)
    out = net(video)
    assert net.features(video).shape == (3, 12)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "benchmark": (3, 3), "label": (3, data.num_classes("shapes")), "speed": (3, 3), "direction": (3, 4)}


def test_max_pool_sees_a_small_moving_object():
    """One 2x2 pixel square in an empty clip: a mean over (T, H, W) would shrink its response with the canvas,
    the max half of the pooling does not."""
    from magvit.metrics.proxy import MeanMaxPool

    x = torch.zeros(1, 1, 4, 8, 8)
    x[0, 0, 1, 2:4, 2:4] = 1.0
    pooled = MeanMaxPool()(x)
    assert pooled[0, 1] == 1.0 and pooled[0, 0] == pytest.approx(4 / 256)


def test_class_head_fits_a_tiny_separable_case():
    """Four classes that differ only in motion (a square moving right, left, down, up; its start random): the
    net's class head fits them within a few dozen steps."""
    from magvit.config import EvaluatorConfig
    from magvit.metrics.proxy import ProxyNet

    g = torch.Generator().manual_seed(0)
    n, t, r = 32, 6, 16
    labels = torch.arange(n) % 4
    video = torch.zeros(n, 3, t, r, r)
    moves = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}
    for i in range(n):
        dy, dx = moves[int(labels[i])]
        y0, x0 = (int(v) for v in torch.randint(5, 9, (2,), generator=g))
        colour = torch.rand(3, generator=g) * 0.5 + 0.5
        for k in range(t):
            y, x = y0 + dy * k, x0 + dx * k
            video[i, :, k, y:y + 3, x:x + 3] = colour[:, None, None]
    torch.manual_seed(0)
    net = ProxyNet(EvaluatorConfig(width=4, feature_dim=16))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(40):
        loss = torch.nn.functional.cross_entropy(net(video)["label"], labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(video)["label"].argmax(1) == labels).float().mean().item()
    assert accuracy == 1.0


def test_proxy_net_error_paths_and_key():
    from dataclasses import replace

    from magvit.config import EvaluatorConfig
    from magvit.infra.artifacts import config_key
    from magvit.metrics.proxy import ARCHITECTURE, ProxyKey, ProxyNet

    with pytest.raises(ValueError, match="width"):
        ProxyNet(EvaluatorConfig(width=0))
    with pytest.raises(ValueError, match="feature_dim"):
        ProxyNet(EvaluatorConfig(feature_dim=0))
    net = ProxyNet(EvaluatorConfig(width=2, feature_dim=4))
    with pytest.raises(ValueError, match="at least 2 frames"):
        net.features(torch.rand(1, 3, 1, 16, 16))
    with pytest.raises(ValueError, match="channels"):
        net.features(torch.rand(1, 1, 4, 16, 16))
    key = ProxyKey(EvaluatorConfig(), 16, 32)
    assert key.architecture == ARCHITECTURE
    assert config_key(key, 0) != config_key(replace(key, architecture="motion-v1"), 0)  # old weights never load


def test_real_inception_scores_and_before_after():
    import pandas as pd

    from magvit.metrics.proxy import ProxyEvaluator, ProxyNet

    p = profiles.get("smoke", device="cpu")
    torch.manual_seed(0)
    ev = ProxyEvaluator(ProxyNet(p.evaluator))  # untrained: the scores' bounds and layout do not need training
    real = validation.real_inception_scores(ev, 4, p.data.resolution, 6, splits=3)
    assert list(real.benchmark) == list(data.BENCHMARKS)
    assert ((real.is_proxy >= 1 - 1e-9) & (real.is_proxy <= real.classes)).all() and (real.splits == 3).all()
    assert (validation.real_inception_scores(ev, 4, p.data.resolution, 2).splits == 2).all()  # at most one per clip
    with pytest.raises(ValueError, match="at least 2"):
        validation.real_inception_scores(ev, 4, p.data.resolution, 1)
    acc = pd.DataFrame({"benchmark": ["shapes", "scenes"], "head": ["label", "direction"], "accuracy": [0.6, 0.5],
                        "chance": [1 / 12, 0.25]})
    table = validation.before_after(acc)
    assert table.loc[0, "before"] == validation.MOTION_V1_ACCURACY[("shapes", "label")]
    assert table.loc[1, "change"] == pytest.approx(0.5 - validation.MOTION_V1_ACCURACY[("scenes", "direction")])
    with pytest.raises(ValueError, match="lacks columns"):
        validation.before_after(acc.drop(columns="chance"))


def test_degrade_changes_only_the_requested_share_and_keeps_the_range():
    from magvit.metrics.proxy import degrade

    video = torch.rand(8, 3, 8, 16, 16)
    out = degrade(video, 0.5, torch.Generator().manual_seed(0))
    changed = (out - video).abs().flatten(1).amax(1) > 0
    assert changed[:4].all() and not changed[4:].any()
    assert out.min() >= 0 and out.max() <= 1 and out.shape == video.shape
    again = degrade(video, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert torch.equal(degrade(video, 0.0, torch.Generator()), video)
    with pytest.raises(ValueError, match="augment"):
        degrade(video, 1.5, torch.Generator())
