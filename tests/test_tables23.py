"""Tables 2 and 3 (notebook 07): PSNR / SSIM per clip and over groups as the official code, the paper-vs-ours
layout, the condition + prediction strip, and C6 on hand cases (seeds that disagree, a missing L model)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from magvit.experiments import tables23
from magvit.experiments.verdicts import NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED
from magvit.metrics import LPIPS_NA


def clips(n: int = 4, frames: int = 4, size: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, frames, size, size, generator=torch.Generator().manual_seed(seed))


def test_per_clip_quality_known_answers():
    real = clips() * 0.8
    q = tables23.per_clip_quality(real, real + 0.1)  # a uniform offset of 0.1: MSE 0.01, PSNR 20 dB
    assert q["psnr"].to_numpy() == pytest.approx(np.full(4, 20.0))
    same = tables23.per_clip_quality(real, real.clone())
    assert same["ssim"].to_numpy() == pytest.approx(np.ones(4))
    # only the first (condition) frame differs: the predicted frames alone are perfect
    fake = real.clone()
    fake[:, :, 0] = 1 - fake[:, :, 0]
    every, future = tables23.per_clip_quality(real, fake), tables23.per_clip_quality(real, fake, first_frame=1)
    assert (every["ssim"] < 1).all() and future["ssim"].to_numpy() == pytest.approx(np.ones(4))
    with pytest.raises(ValueError, match="differ in shape"):
        tables23.per_clip_quality(real, real[:2])
    with pytest.raises(ValueError, match="first_frame"):
        tables23.per_clip_quality(real, real, first_frame=4)


def test_grouped_is_the_official_mean_and_std_over_repeats():
    mean, std = tables23.grouped(np.arange(1.0, 10.0), 4)  # 9 values: the 9th fills no group
    assert mean == pytest.approx(4.5) and std == pytest.approx(math.sqrt(5.0))
    with pytest.raises(ValueError, match="cannot fill"):
        tables23.grouped(np.ones(3), 4)


def test_image_quality_columns():
    real = clips(8)
    out = tables23.image_quality(real, (real + 0.05).clamp(0, 1), cond_frames=1, groups=4)
    assert out["lpips"] == LPIPS_NA
    for m in ("psnr", "ssim"):
        assert out[f"{m}_low"] <= out[m] <= out[f"{m}_high"]
        assert out[f"{m}_group_mean"] == pytest.approx(out[m])  # 8 clips fill 4 groups exactly
        assert out[f"{m}_group_std"] >= 0
    assert out["psnr"] > 20  # an offset of at most 0.05


def hand_table(rows: dict[tuple[str, str], list[float]], half: float = 1.0) -> pd.DataFrame:
    """(dataset, model) -> FVD per seed, each with +- ``half`` as its interval."""
    return pd.DataFrame([{"dataset": d, "model": m, "seed": s, "fvd": f, "fvd_low": f - half, "fvd_high": f + half}
                         for (d, m), values in rows.items() for s, f in enumerate(values)])


def c6(table: pd.DataFrame) -> dict[str, str]:
    """C6's verdict per benchmark (one claims row per benchmark with both sizes)."""
    out = tables23.tables23_claims(table, "hand")
    assert set(out["claim"]) == {"C6"} and (out["setting"] == "hand").all()
    return dict(zip(out["benchmark"], out["verdict"], strict=True))


def test_c6_on_table2_hand_cases():
    base = {("pushbot", "MAGVIT-B-FP"): [20.0, 21.0], ("scenes", "MAGVIT-B-FP"): [30.0, 30.5],
            ("pushbot", "AR-B-FP"): [25.0]}
    # no L anywhere: one not-testable row over both benchmarks, and the reason is given
    out = tables23.tables23_claims(hand_table(base))
    assert list(out["verdict"]) == [NOT_TESTABLE] and "not trained" in out["ours"].iloc[0]
    assert out["benchmark"].iloc[0] == "pushbot, scenes"
    # L on pushbot only, better beyond every seed's interval: reproduced on the benchmark it was trained on, and
    # no row for the benchmark without L
    assert c6(hand_table(base | {("pushbot", "MAGVIT-L-FP"): [10.0, 11.0]})) == {"pushbot": REPRODUCED}
    # seeds disagree (seed 0 L better, seed 1 B better): never reproduced
    assert c6(hand_table(base | {("pushbot", "MAGVIT-L-FP"): [10.0, 31.0]})) == {"pushbot": NOT_TESTABLE}
    assert c6(hand_table(base | {("pushbot", "MAGVIT-L-FP"): [15.0, 22.0]}))["pushbot"] not in (REPRODUCED,
                                                                                                  NOT_REPRODUCED)
    # L worse on both benchmarks: not reproduced on each; better on one, worse on the other: one row each
    worse = {("pushbot", "MAGVIT-L-FP"): [40.0, 41.0], ("scenes", "MAGVIT-L-FP"): [50.0, 51.0]}
    assert c6(hand_table(base | worse)) == {"pushbot": NOT_REPRODUCED, "scenes": NOT_REPRODUCED}
    mixed = {("pushbot", "MAGVIT-L-FP"): [10.0, 11.0], ("scenes", "MAGVIT-L-FP"): [50.0, 51.0]}
    assert c6(hand_table(base | mixed)) == {"pushbot": REPRODUCED, "scenes": NOT_REPRODUCED}
    # one seed per row: not testable
    assert c6(hand_table({("pushbot", "MAGVIT-B-FP"): [20.0], ("pushbot", "MAGVIT-L-FP"): [10.0]})) == {
        "pushbot": NOT_TESTABLE}


def test_side_by_side_tables_keep_paper_and_ours_apart():
    table = hand_table({("pushbot", "MAGVIT-B-FP"): [20.0, 22.0], ("scenes", "MAGVIT-B-FP"): [30.0, 30.0],
                        ("pushbot", "AR-B-FP"): [25.0]}).assign(fvd_group_mean=1.0, fvd_group_std=0.1)
    ours = tables23.summary(table)
    assert ours.set_index(["dataset", "model"]).loc[("pushbot", "MAGVIT-B-FP"), "fvd_mean"] == pytest.approx(21.0)
    side = tables23.table2_side_by_side(ours)
    theirs = tables23.paper.table(tables23.TABLE2)
    paper_rows, our_rows = side[side.source.str.startswith("paper")], side[side.source.str.startswith("ours")]
    assert len(paper_rows) == len(theirs) and list(our_rows.method) == ["MAGVIT-B-FP (ours)", "AR-B-FP (ours)"]
    ours_cols = [c for c in side.columns if c.startswith("ours_")]
    paper_cols = [c for c in side.columns if c.startswith("paper_")]
    assert paper_rows[ours_cols].isna().all().all() and our_rows[paper_cols].isna().all().all()
    assert math.isnan(our_rows.set_index("method").loc["AR-B-FP (ours)", "ours_scenes (Kinetics-600) FVD (proxy)"])

    quality = table[table.dataset == "pushbot"].assign(psnr=[18.0, 19.0, 17.0], ssim=[0.5, 0.6, 0.4])
    side3 = tables23.table3_side_by_side(tables23.summary(quality, ("fvd", "psnr", "ssim")))
    assert len(side3) == len(tables23.paper.table(tables23.TABLE3)) + 2
    b = side3.set_index("method").loc["MAGVIT-B-FP (ours)"]
    assert b["ours_PSNR"] == pytest.approx(18.5) and b["ours_LPIPS"] == LPIPS_NA and math.isnan(b["paper_psnr"])


def test_prediction_strip_shows_condition_predictions_and_truth():
    real = clips(2, frames=8)
    fakes = {"MAGVIT-B-FP": clips(2, frames=8, seed=1), "AR-B-FP": clips(2, frames=8, seed=2)}
    rows, labels = tables23.prediction_strip(real, fakes, cond_frames=5, clip=1)
    assert labels == ["condition (5 fr.)", "MAGVIT-B-FP", "AR-B-FP", "truth"]
    assert torch.equal(rows[0][:, :, :5], real[1:2, :, :5])
    assert torch.equal(rows[0][:, :, 7], real[1:2, :, 4])  # the last condition frame repeated
    assert torch.equal(rows[-1], real[1:2]) and torch.equal(rows[2], fakes["AR-B-FP"][1:2])
    with pytest.raises(ValueError, match="outside the batch"):
        tables23.prediction_strip(real, fakes, 5, clip=2)
    with pytest.raises(ValueError, match="unknown frame-prediction benchmark"):
        tables23.check_benchmark("bair")
