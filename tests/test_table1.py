"""Table 1 (notebook 06): the rows, the real-clips ceiling, the paper-vs-ours layout and C6 on hand cases; and
``sample.evaluate``'s grouped FVD and IS on a smoke CG model, with class conditioning of the AR baseline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from magvit.experiments import table1
from magvit.experiments.verdicts import NOT_REPRODUCED, NOT_TESTABLE, PARTLY, REPRODUCED


def hand_table(l_fvd, b_fvd, l_is=(5.0, 5.0), b_is=(3.0, 3.0), half=1.0, is_std=0.1) -> pd.DataFrame:
    """One row per (model, seed): FVD value +- ``half`` as its interval, IS with ``is_std`` over 10 splits."""
    rows = []
    for model, fvds, iss in [("MAGVIT-L-CG", l_fvd, l_is), ("MAGVIT-B-CG", b_fvd, b_is)]:
        for seed, (f, i) in enumerate(zip(fvds, iss, strict=True)):
            rows.append({"model": model, "seed": seed, "fvd": f, "fvd_low": f - half, "fvd_high": f + half,
                         "is_proxy": i, "is_proxy_std": is_std, "num_samples": 100})
    return pd.DataFrame(rows)


def verdict(table: pd.DataFrame) -> str:
    out = table1.table1_claims(table, "hand")
    assert list(out["claim"]) == ["C6"] and out["setting"].iloc[0] == "hand"
    return out["verdict"].iloc[0]


def test_c6_on_table1_needs_both_metrics_and_every_seed():
    assert verdict(hand_table((10.0, 11.0), (20.0, 21.0))) == REPRODUCED
    # FVD resolved on both seeds but IS only in the means (intervals overlap): partly
    assert verdict(hand_table((10.0, 11.0), (20.0, 21.0), l_is=(3.2, 3.3), b_is=(3.0, 3.1), is_std=1.0)) == PARTLY
    # B better on both metrics: not reproduced
    assert verdict(hand_table((20.0, 21.0), (10.0, 11.0), l_is=(3.0, 3.0), b_is=(5.0, 5.0))) == NOT_REPRODUCED


def test_c6_is_never_reproduced_when_the_seeds_disagree():
    # seed 0: L far better; seed 1: B far better -> the seeds spread more than the means differ
    table = hand_table((10.0, 30.0), (30.0, 10.0), l_is=(5.0, 3.0), b_is=(3.0, 5.0))
    assert verdict(table) == NOT_TESTABLE
    # seed 1 reverses the order but the means still favour L: at most partly
    table = hand_table((10.0, 21.0), (30.0, 20.0), l_is=(5.0, 5.0), b_is=(3.0, 3.0))
    assert verdict(table) not in (REPRODUCED, NOT_REPRODUCED)


def test_c6_with_one_seed_is_not_testable():
    table = hand_table((10.0,), (20.0,), l_is=(5.0,), b_is=(3.0,))
    out = table1.table1_claims(table)
    assert out["verdict"].iloc[0] == NOT_TESTABLE and "fewer than 2 training seeds" in out["ours"].iloc[0]


def test_is_estimate_interval_is_the_split_standard_error():
    table = hand_table((1.0, 1.0), (1.0, 1.0), is_std=0.5)
    est = table1.is_estimates(table, "MAGVIT-L-CG")
    assert len(est) == 2
    assert est[0].high - est[0].value == pytest.approx(1.96 * 0.5 / math.sqrt(10))


def test_is_estimate_uses_the_splits_the_score_was_computed_over():
    table = hand_table((1.0, 1.0), (1.0, 1.0), is_std=0.5).assign(fvd_groups=4)  # sample.evaluate's groups
    est = table1.is_estimates(table, "MAGVIT-L-CG")
    assert est[0].high - est[0].value == pytest.approx(1.96 * 0.5 / 2)
    assert list(table1.is_splits(table.assign(fvd_groups=0))) == [10] * 4  # no groups: min(10, clips)


class StubEvaluator:
    """Features = per-clip channel means; class posteriors from the clip's mean brightness."""

    def features(self, video: torch.Tensor) -> np.ndarray:
        return video.mean((2, 3, 4)).double().numpy()

    def class_probs(self, video: torch.Tensor) -> np.ndarray:
        logits = torch.stack([video.mean((1, 2, 3, 4)) * k for k in range(12)], 1).double()
        return torch.softmax(logits * 50, 1).numpy()


def test_real_row_is_the_ceiling_and_the_noise_floor():
    from magvit.metrics import fvd, inception_score

    gen = torch.Generator().manual_seed(0)
    real, other = torch.rand(40, 3, 4, 8, 8, generator=gen), torch.rand(40, 3, 4, 8, 8, generator=gen)
    ev = StubEvaluator()
    row = table1.real_row(ev, real, other, num_bootstrap=10, groups=4)
    assert row["model"] == table1.REAL and row["train_steps"] == 0 and row["num_samples"] == 40
    assert row["is_proxy"] == pytest.approx(inception_score(ev.class_probs(real), splits=10)[0])
    assert row["fvd"] == pytest.approx(fvd(ev.features(other), ev.features(real), num_bootstrap=0).value)
    assert row["fvd_low"] <= row["fvd"] <= row["fvd_high"] and row["fvd_groups"] == 4
    with pytest.raises(ValueError, match="one shape"):
        table1.real_row(ev, real, other[:20], num_bootstrap=10, groups=4)


def test_side_by_side_keeps_every_paper_row_and_never_mixes_columns():
    table = pd.concat([hand_table((10.0, 11.0), (20.0, 21.0)).assign(fvd_group_mean=1.0, fvd_group_std=0.1),
                       pd.DataFrame([{"model": table1.REAL, "seed": 0, "fvd": 0.5, "fvd_low": 0.4, "fvd_high": 0.6,
                                      "is_proxy": 9.0, "is_proxy_std": 0.2, "num_samples": 100,
                                      "fvd_group_mean": 0.5, "fvd_group_std": 0.1}])], ignore_index=True)
    ours = table1.summary(table)
    assert list(ours["model"]) == ["MAGVIT-L-CG", "MAGVIT-B-CG", table1.REAL]
    assert ours.set_index("model").loc["MAGVIT-L-CG", "fvd_mean"] == pytest.approx(10.5)
    side = table1.side_by_side(ours)
    theirs = table1.paper.table(table1.PAPER_TABLE)
    paper_rows, our_rows = side[side.source.str.startswith("paper")], side[side.source.str.startswith("ours")]
    assert len(paper_rows) == len(theirs) and {"TATS", "DIGAN", "CCVS+StyleGAN", "Make-A-Video"} <= set(theirs.method)
    assert len(our_rows) == 3 and "real held-out clips (ceiling)" in set(our_rows.method)
    ours_cols = [c for c in side.columns if c.startswith("ours_")]
    paper_cols = [c for c in side.columns if c.startswith("paper_")]
    assert paper_rows[ours_cols].isna().all().all() and our_rows[paper_cols].isna().all().all()


def test_steps_fraction_and_sizes():
    from magvit import profiles

    p = profiles.get("cpu", device="cpu")
    assert table1.size_config(p, "B", 1.0) is p.transformer  # the full steps keep the cache key
    half = table1.size_config(p, "L", 0.5)
    assert half.steps == p.tables.large.steps // 2 and half.hidden == p.tables.large.hidden
    assert half.warmup_steps <= half.steps // 10
    with pytest.raises(ValueError, match="unknown model size"):
        table1.size_config(p, "XL")
    with pytest.raises(ValueError, match="fraction"):
        table1.scaled_steps(p.transformer, 0.0)
    longer = table1.size_config(p, "B", 4.0)  # the gpu profile's Table 1 trains longer than its other models
    assert longer.steps == 4 * p.transformer.steps and longer.warmup_steps == p.transformer.warmup_steps


def test_class_examples_in_class_order():
    fake = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1, 1).expand(6, 3, 2, 4, 4) / 10
    labels = torch.tensor([3, 0, 3, 11, 0, 5])
    clips, names = table1.class_examples(fake, labels)
    from magvit.data import SHAPES_CLASSES

    assert names == [SHAPES_CLASSES[c] for c in (0, 3, 5, 11)]
    assert [float(c[0, 0, 0, 0, 0]) for c in clips] == pytest.approx([0.1, 0.0, 0.5, 0.3])
    assert len(table1.class_examples(fake, labels, per_class=2)[0]) == 6
    with pytest.raises(ValueError, match="labels"):
        table1.class_examples(fake, labels[:3])


@pytest.fixture(scope="module")
def smoke_cg(smoke_untrained):
    """The smoke profile with an untrained (seeded) tokenizer, and an AR CG model trained 2 steps on shapes."""
    from magvit.generative import train as generative_train

    p, store = smoke_untrained
    model, _ = generative_train.get_transformer(p, "shapes", "CG", "ar", cfg=table1.size_config(p, "B", 0.34),
                                                store=store)
    return p, model


def test_ar_baseline_is_class_conditional(smoke_cg):
    from magvit import data

    p, model = smoke_cg
    video, _ = data.get_batch(data.load("shapes", "test", p.data.num_frames, p.data.resolution), range(2))
    first = {}
    for label in (0, 7):
        labels = torch.full((2,), label)
        result, cond = model.generate(video, "CG", labels, generator=torch.Generator().manual_seed(0))
        assert torch.equal(cond.prefix[:, 1], model.vocab.class_ids(labels, 2, labels.device))
        assert cond.ispad.all() and result.steps == model.num_tokens  # no token given: every one sampled
        with torch.inference_mode():  # the first visual token's distribution, right after [task, class]
            first[label] = model.transformer(cond.prefix)[:, -1]
    assert not torch.allclose(first[0], first[7])  # the class token reaches the prediction
    with pytest.raises(ValueError, match="need class labels"):
        model.generate(video, "CG")


def test_evaluate_reports_grouped_fvd_and_is(smoke_cg):
    from magvit.generative.sample import evaluate
    from magvit.metrics import ProxyEvaluator, fvd_groups, inception_score
    from magvit.metrics.proxy import ProxyNet

    p, model = smoke_cg
    torch.manual_seed(0)
    evaluator = ProxyEvaluator(ProxyNet(p.evaluator), "cpu", 8)
    e, out = evaluate(model, "CG", evaluator, 8, 4, num_bootstrap=5, groups=2)
    assert e.fvd_groups == 2 and e.num_samples == 8 and out.fake.shape == out.real.shape
    mean, std = fvd_groups(evaluator.features(out.real), evaluator.features(out.fake), 2)
    assert e.fvd_group_mean == pytest.approx(mean) and e.fvd_group_std == pytest.approx(std)
    assert e.is_proxy == pytest.approx(inception_score(evaluator.class_probs(out.fake), splits=8)[0])
    assert 1.0 <= e.is_proxy <= 12.0 and e.is_proxy_std >= 0.0
    row = table1.evaluation_row("AR-B-CG", 0, e, 2)
    assert row["fvd_group_mean"] == e.fvd_group_mean and row["is_proxy"] == e.is_proxy and row["train_steps"] == 2


def test_c6_on_paired_features():
    """With the per-clip features, the FVD part of C6 is judged on the paired bootstrap of KVD."""
    import numpy as np

    from magvit.generative.sample import ClipFeatures

    rng = np.random.default_rng(0)
    real = rng.standard_normal((32, 8))
    features = {(name, s): ClipFeatures(real, 0.6 * real + 0.8 * rng.standard_normal(real.shape) + shift)
                for name, shift in (("MAGVIT-L-CG", 0.0), ("MAGVIT-B-CG", 1.0)) for s in (0, 1)}
    paired = table1.paired_rows(features)
    assert len(paired[1]["MAGVIT-L-CG"].per_seed) == 2
    table = hand_table((10.0, 11.0), (10.5, 10.0))  # FVD (proxy) rows overlap: the unpaired part is inconclusive
    assert verdict(table) == PARTLY  # IS reproduced, FVD inconclusive from the rows' own intervals
    out = table1.table1_claims(table, "hand", paired=paired)
    assert out["verdict"].iloc[0] == REPRODUCED  # the paired KVD difference resolves L over B
    with pytest.raises(ValueError, match="lack"):
        table1.table1_claims(table, paired=(real, {"MAGVIT-L-CG": paired[1]["MAGVIT-L-CG"]}))
