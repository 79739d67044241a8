"""The verdict rules: every comparison from the interval of its difference, three outcomes, the paired
hierarchical bootstrap, KVD, and their calibration on simulated rows at the study's sample sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from magvit.experiments import claims, summary, table7
from magvit.experiments.verdicts import (
    CONTRADICTED,
    FEW_SEEDS,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    PARTLY,
    REPRODUCED,
    UNRESOLVED,
    Estimate,
    Outcome,
    beats,
    calibration,
    cap_seeds,
    combine,
    compare_features,
    difference,
    judge,
)
from magvit.metrics.kernel import kernel_distance, kvd, mmd2_from_kernels, polynomial_kernel, prefer_kvd
from magvit.metrics.paired import RowFeatures, choose_distance, contrast, paired_difference, simulate_rows

STUDY_CLIPS = (32, 128)  # clips per (model, task) in Tables 4-5 and per row in Tables 1-2
DIM = 64  # the proxy evaluator's features


# --- the rule -------------------------------------------------------------------------------------------------------

def test_three_outcomes_from_the_interval_of_the_difference():
    assert judge(Estimate(2.0, 0.5, 3.0)) == Outcome(REPRODUCED, judge(Estimate(2.0, 0.5, 3.0)).reason,
                                                      Estimate(2.0, 0.5, 3.0))
    assert judge(Estimate(-2.0, -3.0, -0.5)).verdict == NOT_REPRODUCED
    assert judge(Estimate(-2.0, -3.0, -0.5)).reason == CONTRADICTED
    out = judge(Estimate(0.3, -1.0, 2.0))
    assert out.verdict == NOT_TESTABLE and out.reason == INCONCLUSIVE
    blind = judge(Estimate(2.0, 0.5, 3.0), resolvable=False)
    assert blind.verdict == NOT_TESTABLE and blind.reason == UNRESOLVED
    assert judge(Estimate(2.0, 0.5, 3.0), resolvable=True).verdict == REPRODUCED
    with pytest.raises(ValueError, match="disagrees"):
        Outcome(REPRODUCED, "", Estimate(0.3, -1.0, 2.0))
    with pytest.raises(ValueError, match="finite"):
        judge(Estimate(float("inf"), 0.0, float("inf")))


def test_beats_is_judged_on_the_difference_not_on_the_point_estimates():
    # the published C1: COMMIT 339.0 [292.4, 379.4] vs latent masking 329.6 [285.2, 368.2]: not "not reproduced"
    commit, latent = Estimate(339.0, 292.4, 379.4), Estimate(329.6, 285.2, 368.2)
    assert beats(commit, latent) == NOT_TESTABLE
    assert beats(latent, commit) == NOT_TESTABLE  # nor "partly" the other way round
    d = difference(commit, latent)
    assert d.value == pytest.approx(-9.4) and d.low < 0 < d.high
    assert beats(Estimate(10, 9, 11), Estimate(20, 19, 21)) == REPRODUCED
    assert beats(Estimate(20, 19, 21), Estimate(10, 9, 11)) == NOT_REPRODUCED
    assert beats(Estimate(3.0, 2.9, 3.1), Estimate(2.0, 1.9, 2.1), lower_is_better=False) == REPRODUCED


def test_combine_partly_only_for_several_comparisons():
    r, c, n = judge(Estimate(1, 0.5, 2)), judge(Estimate(-1, -2, -0.5)), judge(Estimate(0, -1, 1))
    assert combine([r]) is r and combine([n]).verdict == NOT_TESTABLE
    assert combine([r, r]).verdict == REPRODUCED
    assert combine([r, n], ["FP", "MT8"]).verdict == PARTLY
    assert "MT8" in combine([r, n], ["FP", "MT8"]).reason
    assert combine([r, c], ["FP", "MT8"]) == Outcome(NOT_REPRODUCED, "contradicted: MT8")
    assert combine([n, n]).verdict == NOT_TESTABLE and combine([n, n]).reason == INCONCLUSIVE
    assert combine([r, n]).difference is None  # no single difference for several comparisons


def test_fewer_seeds_than_the_profile_is_not_testable():
    r = judge(Estimate(1, 0.5, 2))
    assert cap_seeds(r, 2, 2) is r
    capped = cap_seeds(r, 1, 2)
    assert capped.verdict == NOT_TESTABLE and FEW_SEEDS in capped.reason and capped.difference == r.difference
    # an interval that already leaves the comparison open keeps its reason and says it rests on too few seeds
    open_ = cap_seeds(judge(Estimate(0.5, -1, 2)), 1, 2)
    assert open_.verdict == NOT_TESTABLE and open_.reason == f"{INCONCLUSIVE}; {FEW_SEEDS} (1 < 2)"
    assert cap_seeds(open_, 1, 2) is open_  # said once
    assert cap_seeds(judge(Estimate(0.5, -1, 2)), 2, 2).reason == INCONCLUSIVE


def test_every_claims_row_agrees_with_its_interval():
    row = claims.verdict_row("C4", "x", judge(Estimate(1, 0.5, 2)))
    assert row["difference_low"] == 0.5 and row["reason"] and claims.consistent(row)
    with pytest.raises(ValueError, match="disagrees"):
        claims.verdict_row("C4", "x", NOT_REPRODUCED, difference=Estimate(1, 0.5, 2))
    with pytest.raises(ValueError, match="disagrees"):
        claims.verdict_row("C4", "x", NOT_TESTABLE, difference=Estimate(1, 0.5, 2))  # resolved: needs a reason
    ok = claims.verdict_row("C4", "x", NOT_TESTABLE, difference=Estimate(1, 0.5, 2), reason=UNRESOLVED)
    assert claims.consistent(ok)
    assert claims.consistent(claims.verdict_row("C8", "x", PARTLY))  # not one comparison: blank difference
    assert not claims.consistent({"verdict": REPRODUCED, "difference": 1.0, "difference_low": -1.0,
                                  "difference_high": 2.0, "reason": ""})


# --- KVD and the paired bootstrap -----------------------------------------------------------------------------------

def test_kvd_is_unbiased_where_fvd_is_not():
    rng = np.random.default_rng(0)
    kvds, fvds = [], []
    from magvit.metrics.frechet import frechet_distance
    for _ in range(40):
        a, b = rng.standard_normal((32, DIM)), rng.standard_normal((32, DIM))
        kvds.append(kernel_distance(a, b))
        fvds.append(frechet_distance(a, b))
    se = np.std(kvds) / np.sqrt(len(kvds))
    assert abs(np.mean(kvds)) < 3 * se  # expectation 0 for one distribution
    assert np.mean(fvds) > 10 * np.std(fvds) / np.sqrt(len(fvds))  # FVD: large positive bias at 32 clips
    assert prefer_kvd(256, 64) and not prefer_kvd(640, 64)
    assert choose_distance(128, 64) == "kvd" and choose_distance(1000, 64) == "fvd"


def test_kvd_matches_a_direct_computation():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((5, 3)) + 1
    k = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    xx = np.mean([k(x[i], x[j]) for i in range(6) for j in range(6) if i != j])
    yy = np.mean([k(y[i], y[j]) for i in range(5) for j in range(5) if i != j])
    xy = np.mean([k(x[i], y[j]) for i in range(6) for j in range(5)])
    assert kernel_distance(x, y) == pytest.approx(xx + yy - 2 * xy)
    assert mmd2_from_kernels(polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)) == \
        pytest.approx(xx + yy - 2 * xy)
    res = kvd(x, y, num_bootstrap=50)
    assert res.low <= res.value <= res.high and res.n_real == 6
    with pytest.raises(ValueError, match="widths differ"):
        kernel_distance(x, y[:, :2])


def test_paired_difference_shapes_and_errors():
    rng = np.random.default_rng(2)
    real, rows = simulate_rows(rng, 32, 8, (0.0, 0.5))
    d = paired_difference(real, rows[0], rows[1], "kvd", num_bootstrap=100)
    assert d.low <= d.value <= d.high and d.value > 0
    f = paired_difference(real, rows[0], rows[1], "fvd", num_bootstrap=20)
    assert f.value > 0
    with pytest.raises(ValueError, match="one generated clip per real clip"):
        paired_difference(real[:16], rows[0], rows[1])
    with pytest.raises(ValueError, match="distance must be"):
        contrast(real, [(1.0, rows[0])], "lpips")
    with pytest.raises(ValueError, match="same tasks"):
        contrast(real, [(1.0, rows[0]), (1.0, RowFeatures.of(real, task="FP"))])
    out = compare_features(real, rows[0], rows[1], num_bootstrap=100)
    assert out.verdict == REPRODUCED and "KVD" in out.reason and "paired" in out.reason


# --- calibration ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def calibrated() -> pd.DataFrame:
    return calibration(simulations=200, clip_counts=STUDY_CLIPS, feature_dim=DIM, num_bootstrap=100, seed=0)


def rate(table: pd.DataFrame, clips: int, scenario: str, method: str, verdict: str) -> float:
    row = table[(table.clips == clips) & (table.scenario == scenario) & (table.method == method)]
    return float(row[verdict].iloc[0])


@pytest.mark.parametrize("clips", STUDY_CLIPS)
def test_same_distribution_pairs_are_not_testable(calibrated, clips):
    for method in ("paired", "unpaired"):
        assert rate(calibrated, clips, "same", method, NOT_TESTABLE) >= 0.9
    # a claim of several comparisons on rows of one distribution is almost never reproduced
    assert rate(calibrated, clips, "chain same", "paired", REPRODUCED) <= 0.05


@pytest.mark.parametrize("clips", STUDY_CLIPS)
def test_shifted_pairs_are_reproduced(calibrated, clips):
    assert rate(calibrated, clips, "shifted", "paired", REPRODUCED) >= 0.9
    assert rate(calibrated, clips, "chain shifted", "paired", REPRODUCED) >= 0.9
    assert rate(calibrated, clips, "shifted", "paired", NOT_REPRODUCED) == 0.0


@pytest.mark.parametrize("clips", STUDY_CLIPS)
def test_the_paired_interval_is_narrower_when_rows_share_their_real_clips(calibrated, clips):
    part = calibrated[(calibrated.clips == clips) & (calibrated.scenario == "same")].set_index("method")
    assert part.loc["paired", "width"] < part.loc["unpaired", "width"]


def test_beats_on_two_draws_of_one_distribution_is_not_testable():
    """Fails with the point-estimate rule (``partly`` whenever the point estimate is better, ``not reproduced``
    whenever it is worse): two draws of one distribution never came out ``not testable here``."""
    rng = np.random.default_rng(3)
    verdicts = []
    for sim in range(200):
        real, rows = simulate_rows(rng, 32, DIM, (0.0, 0.0), seeds=1)
        a, b = (kvd(real, r.per_seed[0]["-"], num_bootstrap=50, seed=sim).estimate() for r in rows)
        verdicts.append(beats(a, b))
    assert np.mean([v == NOT_TESTABLE for v in verdicts]) >= 0.9
    assert PARTLY not in verdicts


# --- a claims table on the new rules, and the README block on old and new claims.csv ----------------------------

def test_table7_claims_on_the_difference():
    def rows(model: str, values: tuple[float, float], half: float = 5.0) -> list[dict]:
        return [{"model": model, "seed": s, "fvd_proxy": v, "fvd_low": v - half, "fvd_high": v + half}
                for s, v in enumerate(values)]

    table = pd.DataFrame(rows("MAGVIT 3D-VQ-B", (100, 101)) + rows("2D-VQ", (130, 131))
                         + rows("MAGVIT 3D-VQ-B central", (60, 61)) + rows("MAGVIT 3D-VQ-B average", (99, 102))
                         + rows("MAGVIT 3D-VQ-L", (98, 103)))
    consistency = pd.DataFrame([{"padding": p, "seed": s, "equal_all": v, "low": v - 0.01, "high": v + 0.01}
                                for p, v in (("reflect", 0.8), ("zeros", 0.5)) for s in (0, 1)])
    out = table7.table7_claims(table, consistency).set_index("claim")
    assert out.loc["C4", "verdict"] == REPRODUCED and out.loc["C4", "difference"] == pytest.approx(30.0)
    assert out.loc["C5", "verdict"] == PARTLY and "average over scratch" in out.loc["C5", "reason"]
    assert out.loc["C6", "verdict"] == NOT_TESTABLE and INCONCLUSIVE in out.loc["C6", "reason"]
    assert out.loc["C10", "verdict"] == REPRODUCED and out.loc["C10", "difference"] == pytest.approx(0.3)
    assert all(claims.consistent(r) for _, r in out.reset_index().iterrows())
    blind = table7.table7_claims(table, consistency, resolvable=False).set_index("claim")
    assert blind.loc["C4", "verdict"] == NOT_TESTABLE and blind.loc["C10", "verdict"] == REPRODUCED


def test_readme_block_on_old_and_new_claims(tmp_path):
    old = pd.DataFrame([{"claim": "C4", "benchmark": "shapes", "statement": "s", "paper": "p", "ours": "o",
                         "verdict": NOT_REPRODUCED, "rule": "r", "setting": "x"}])  # an older claims.csv
    old.to_csv(tmp_path / "claims_table7.csv", index=False)
    table = summary.collect(tmp_path)
    old_block = summary.readme_block(table, "cpu")
    assert "| not reproduced | [10_table7]" in old_block and "difference" not in old_block  # the earlier layout
    new = claims.verdict_table([claims.verdict_row("C4", "o", judge(Estimate(-9.4, -67.0, 48.0)))])
    new.to_csv(tmp_path / "claims_table7.csv", index=False)
    block = summary.readme_block(summary.collect(tmp_path), "cpu")
    assert "not testable here (inconclusive" in block and "-9.4 [-67, 48]" in block
    assert "difference -9.4 [-67, 48]" in summary.narrative(summary.collect(tmp_path))
