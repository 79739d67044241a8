"""Resolving power: the rule of ``resolves`` on hand-made CSVs, the statement and the claims
qualifier, the paired bootstrap, and ``measure`` / ``write`` / ``figure`` end to end at the smoke profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from magvit.experiments import resolving_power as rp
from magvit.experiments.verdicts import NOT_TESTABLE, REPRODUCED


def hand_rows(benchmark: str, task: str, fvds, accuracies=None, diff_low=None, acc_diff_high=None,
              half: float = 5.0) -> list[dict]:
    """One row per budget (1/8, 1/2, 1) with FVD +- ``half``; paired columns on the 1/8 row when given."""
    rows = []
    for i, (fraction, f) in enumerate(zip(rp.FRACTIONS, fvds, strict=True)):
        row = {"benchmark": benchmark, "task": task, "budget_fraction": fraction, "steps": int(300 * fraction),
               "fvd": f, "fvd_low": f - half, "fvd_high": f + half,
               "class_accuracy": np.nan if accuracies is None else accuracies[i], "seed": 0, "num_samples": 64}
        if diff_low is not None:
            d = f - fvds[-1]
            row |= {"fvd_diff": d, "fvd_diff_low": diff_low if i == 0 else d, "fvd_diff_high": d + 1}
        if acc_diff_high is not None:
            d = accuracies[i] - accuracies[-1]
            row |= {"accuracy_diff": d, "accuracy_diff_low": d - 0.01,
                    "accuracy_diff_high": acc_diff_high if i == 0 else d}
        rows.append(row)
    return rows


def write_csv(folder, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(folder / f"{rp.TABLE}.csv", index=False)


def test_resolves_when_fvd_and_accuracy_improve_beyond_their_intervals(tmp_path):
    write_csv(tmp_path, hand_rows("shapes", "CG", (300, 250, 200), (0.10, 0.20, 0.40), diff_low=60.0,
                                  acc_diff_high=-0.1) + hand_rows("pushbot", "FP", (100, 80, 60)))
    assert rp.resolves(tmp_path, "shapes") is True
    assert rp.resolves(tmp_path, "pushbot") is True  # no paired columns: the rows' intervals do not overlap
    text = rp.statement(tmp_path, "shapes")
    assert "resolves" in text and "NOT" not in text and "300.0 -> 250.0 -> 200.0" in text
    assert "1/8, 1/2, 1 of the budget" in text and "this table scores" not in text
    # a table scoring fewer clips per row than the measurement is told its intervals are wider
    assert "this table scores 32, so its intervals are wider" in rp.statement(tmp_path, "shapes", clips=32)


def test_does_not_resolve_when_fvd_does_not_improve(tmp_path):
    # the case measured at `cpu`: FVD gets worse as the model learns, accuracy near chance
    write_csv(tmp_path, hand_rows("shapes", "CG", (408, 447, 455), (0.104, 0.092, 0.088), diff_low=-60.0,
                                  acc_diff_high=0.05))
    assert rp.resolves(tmp_path, "shapes") is False
    text = rp.statement(tmp_path, "shapes")
    assert "does NOT resolve" in text and "does not fall" in text and "does not rise" in text


def test_does_not_resolve_when_the_difference_is_inside_its_interval(tmp_path):
    write_csv(tmp_path, hand_rows("pushbot", "FP", (103, 101, 100), diff_low=-2.0))
    assert rp.resolves(tmp_path, "pushbot") is False
    assert "inside its interval" in rp.statement(tmp_path, "pushbot")
    # without paired columns, overlapping intervals do not resolve either
    write_csv(tmp_path, hand_rows("pushbot", "FP", (103, 101, 100)))
    assert rp.resolves(tmp_path, "pushbot") is False


def test_a_wiggle_inside_the_noise_does_not_contradict_but_a_significant_reversal_does(tmp_path):
    # FVD 452 -> 368 -> 382 with the 1/2 row better than the full one inside its paired interval (hand-made; on the
    # gpu run's pushbot rows the paired interval was -14.0 [-21.0, -5.7]: a reversal, not resolved)
    rows = hand_rows("pushbot", "FP", (452, 368, 382), diff_low=60.0)
    rows[1] |= {"fvd_diff_low": -30.0, "fvd_diff_high": 5.0}
    write_csv(tmp_path, rows)
    assert rp.resolves(tmp_path, "pushbot") is True
    rows[1] |= {"fvd_diff_high": -2.0}  # the 1/2 budget beats the full one beyond its interval
    write_csv(tmp_path, rows)
    assert rp.resolves(tmp_path, "pushbot") is False
    assert "a smaller budget beats the full one" in rp.statement(tmp_path, "pushbot")
    # the same for the class accuracy on CG: a dip at 1/2 inside the noise is no contradiction
    rows = hand_rows("shapes", "CG", (699, 461, 426), (0.082, 0.074, 0.180), diff_low=230.0, acc_diff_high=-0.06)
    write_csv(tmp_path, rows)
    assert rp.resolves(tmp_path, "shapes") is True
    rows[1] |= {"accuracy_diff_low": 0.01}  # the 1/2 model recognised better than the full one, beyond the noise
    write_csv(tmp_path, rows)
    assert rp.resolves(tmp_path, "shapes") is False


def test_the_rule_judges_the_distance_the_verdicts_use(tmp_path):
    # FVD (proxy) resolves 1/8 vs 1 but KVD, which the verdicts judge at this clip count, does not: not resolved
    rows = hand_rows("pushbot", "FP", (300, 250, 200), diff_low=60.0)
    for r in rows:
        r |= {"verdict_distance": "kvd", "verdict_diff": r["fvd_diff"] / 1000, "verdict_diff_low": -0.01,
              "verdict_diff_high": r["fvd_diff"] / 1000 + 0.01}
    write_csv(tmp_path, rows)
    assert rp.resolves(tmp_path, "pushbot") is False
    assert "in KVD, the distance the verdicts use" in rp.statement(tmp_path, "pushbot")
    rows[0] |= {"verdict_diff_low": 0.02}
    write_csv(tmp_path, rows)
    assert rp.resolves(tmp_path, "pushbot") is True


def test_accuracy_must_rise_on_cg_even_when_fvd_resolves(tmp_path):
    write_csv(tmp_path, hand_rows("shapes", "CG", (300, 250, 200), (0.30, 0.20, 0.25), diff_low=60.0,
                                  acc_diff_high=0.1))
    assert rp.resolves(tmp_path, "shapes") is False


def test_missing_csv_or_rows_is_none(tmp_path):
    assert rp.resolves(tmp_path, "shapes") is None
    assert "not measured" in rp.statement(tmp_path, "shapes")
    write_csv(tmp_path, hand_rows("pushbot", "FP", (100, 80, 60)))
    assert rp.resolves(tmp_path, "shapes") is None
    write_csv(tmp_path, hand_rows("pushbot", "FP", (100, 80, 60))[:1])  # one budget only
    assert rp.resolves(tmp_path, "pushbot") is None


def test_qualify_marks_claims_on_unresolved_benchmarks(tmp_path):
    write_csv(tmp_path, hand_rows("shapes", "CG", (408, 447, 455), (0.10, 0.09, 0.08))
              + hand_rows("pushbot", "FP", (100, 80, 60)))
    claims = pd.DataFrame([{"claim": "C6", "benchmark": "shapes", "ours": "x", "verdict": REPRODUCED},
                           {"claim": "C1", "benchmark": "pushbot", "ours": "y", "verdict": REPRODUCED},
                           {"claim": "C8", "benchmark": "-", "ours": "z", "verdict": REPRODUCED}])
    out = rp.qualify(claims, tmp_path)
    assert list(out["verdict"]) == [NOT_TESTABLE, REPRODUCED, REPRODUCED]
    assert "does not resolve" in out["ours"].iloc[0] and out["ours"].iloc[1] == "y"
    assert list(rp.qualify(claims, tmp_path, downgrade=False)["verdict"]) == [REPRODUCED] * 3


def test_paired_bootstrap_sees_a_shift_and_nothing_between_equal_sets():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 4))
    near, far = real + rng.normal(scale=0.1, size=real.shape), real + 1.0
    right = np.ones(200, bool)
    out = rp.paired_bootstrap(real, far, near, right & (rng.random(200) < 0.2), right, num_bootstrap=50)
    assert out["fvd_diff"] > 0 and out["fvd_diff_low"] > 0
    assert out["accuracy_diff"] < 0 and out["accuracy_diff_high"] < 0
    assert out["verdict_distance"] == "fvd"  # 200 clips of 4 features: FVD, as the verdicts choose
    assert (out["verdict_diff"], out["verdict_diff_low"]) == (out["fvd_diff"], out["fvd_diff_low"])
    same = rp.paired_bootstrap(real, near, near, num_bootstrap=20)
    assert same == {"fvd_diff": 0.0, "fvd_diff_low": 0.0, "fvd_diff_high": 0.0, "verdict_distance": "fvd",
                    "verdict_diff": 0.0, "verdict_diff_low": 0.0, "verdict_diff_high": 0.0}
    # few clips per feature (every cpu row): the verdicts judge KVD, so the resolving power does too
    wide = rng.normal(size=(64, 32))
    out = rp.paired_bootstrap(wide, wide + 1.0, wide + rng.normal(scale=0.1, size=wide.shape), num_bootstrap=50)
    assert out["verdict_distance"] == "kvd" and out["verdict_diff"] != out["fvd_diff"]
    assert out["verdict_diff_low"] > 0 and out["fvd_diff_low"] > 0
    with pytest.raises(ValueError, match="as many clips"):
        rp.paired_bootstrap(real, near[:10], near)


def test_bad_fractions_are_refused():
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        rp.check_fractions((0.0, 1.0))
    with pytest.raises(ValueError, match="at least 2"):
        rp.check_fractions((1.0,))
    assert rp.check_fractions((1, 0.125, 0.5)) == (0.125, 0.5, 1.0)


def test_the_cg_reference_is_table1s_b_where_table1_trains_longer():
    """At gpu Table 1's MAGVIT-B-CG (4x the steps) is the reference's full-budget model, one cached artifact; at cpu
    the reference is the profile's B (Table 1's model is its 1/2 budget)."""
    from magvit import profiles
    from magvit.experiments.table1 import scaled_steps, size_config

    gpu, cpu = profiles.get("gpu", device="cpu"), profiles.get("cpu", device="cpu")
    assert gpu.tables.table1_train_fraction > 1
    table1_b = size_config(gpu, "B", gpu.tables.table1_train_fraction)
    assert rp.reference_config(gpu, "CG") == table1_b == scaled_steps(rp.reference_config(gpu, "CG"), 1.0)
    assert rp.reference_config(gpu, "FP") is gpu.transformer
    assert rp.reference_config(cpu, "CG") is cpu.transformer and rp.reference_config(cpu, "FP") is cpu.transformer
    assert scaled_steps(rp.reference_config(cpu, "CG"), 0.5) == size_config(cpu, "B", cpu.tables.table1_train_fraction)


def test_measure_write_and_figure_at_smoke(smoke_untrained, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    p, store = smoke_untrained
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path))
    df = rp.measure(p, store=store, num_samples=8)
    assert list(df.columns[:len(rp.COLUMNS)]) == list(rp.COLUMNS)
    assert list(zip(df.benchmark, df.task, df.budget_fraction, strict=True)) == [
        (b, t, f) for b, t in rp.BENCHMARKS for f in rp.FRACTIONS]
    assert list(df.steps) == [2, 3, 6] * 2  # 1/8, 1/2, 1 of the smoke transformer's 6 steps (at least 2)
    assert (df.fvd_low <= df.fvd).all() and (df.fvd <= df.fvd_high).all()
    cg, fp = df[df.task == "CG"], df[df.task == "FP"]
    assert cg.class_accuracy.between(0, 1).all() and fp.class_accuracy.isna().all()
    assert (df[df.budget_fraction == 1.0].fvd_diff == 0).all()
    path = rp.write(df, p)
    assert path == tmp_path / f"{rp.TABLE}.csv"
    back = pd.read_csv(path)
    assert {"git_commit", "profile"} <= set(back.columns) and back["class_accuracy"].isna().sum() == 3
    assert rp.resolves(tmp_path, "shapes") in (True, False) and rp.resolves(tmp_path, "scenes") is None
    assert rp.statement(tmp_path, "pushbot").startswith("Resolving power on pushbot")
    fig = rp.figure(back)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)
