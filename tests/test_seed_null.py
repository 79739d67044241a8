"""The seed-vs-seed null test (magvit.experiments.seed_null)."""

import numpy as np
import pandas as pd
import pytest

from magvit.experiments import seed_null
from magvit.experiments.verdicts import NOT_TESTABLE
from magvit.metrics.paired import RowFeatures, simulate_rows


def test_two_draws_of_one_distribution_are_rarely_called_different():
    rng = np.random.default_rng(0)
    calls = 0
    for i in range(10):
        real, rows = simulate_rows(rng, 64, 8, [0.0], seeds=2, seed_sd=0.0)
        df = seed_null.seed_null("t", "b", real, {"row": rows[0]}, num_bootstrap=200, seed=i)
        assert list(df.columns) == list(seed_null.COLUMNS) and len(df) == 1
        calls += int(df["verdict"].iloc[0] != NOT_TESTABLE)
    assert calls <= 2  # a calibrated rule: ~5% false calls


def test_seeds_far_apart_are_called_and_signed_towards_the_closer_seed():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((64, 8))
    near = 0.6 * real + 0.8 * rng.standard_normal((64, 8))
    far = near + 2.0
    df = seed_null.seed_null("t", "b", real, {"row": RowFeatures.of(near, far)}, num_bootstrap=200)
    assert df["verdict"].iloc[0] == "reproduced"  # seed 0 (near) beats seed 1 (far): difference > 0
    assert df["difference_low"].iloc[0] > 0
    swapped = seed_null.seed_null("t", "b", real, {"row": RowFeatures.of(far, near)}, num_bootstrap=200)
    assert swapped["verdict"].iloc[0] == "not reproduced"


def test_rows_of_one_seed_are_left_out_and_distance_follows_the_clip_count():
    rng = np.random.default_rng(2)
    real, rows = simulate_rows(rng, 32, 8, [0.0, 0.0], seeds=2)
    one = RowFeatures.of(rows[1].per_seed[0]["-"])
    df = seed_null.seed_null("t", "b", real, {"two": rows[0], "one": one}, num_bootstrap=50)
    assert df["row"].tolist() == ["two"]
    assert df["distance"].iloc[0] == "kvd"  # 32 clips for 8 features: below 10 per feature


def test_false_call_rate_and_errors(tmp_path):
    df = pd.DataFrame({"verdict": ["reproduced"] + [NOT_TESTABLE] * 19})
    rate = seed_null.false_call_rate(df)
    assert (rate["rows"], rate["calls"]) == (20, 1) and rate["rate"] == pytest.approx(0.05)
    assert 0 < rate["low"] < 0.05 < rate["high"] < 1
    with pytest.raises(ValueError, match="two training seeds"):
        seed_null.false_call_rate(df.iloc[:0])
    with pytest.raises(TypeError, match="RowFeatures"):
        seed_null.seed_null("t", "b", np.zeros((4, 2)), {"x": np.zeros((4, 2))})
    with pytest.raises(ValueError, match="lacks column"):
        seed_null.write_part(pd.DataFrame({"table": []}), "t", "smoke", (0,))
    assert seed_null.gather(tmp_path).empty


def test_parts_are_gathered(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path))
    rng = np.random.default_rng(3)
    real, rows = simulate_rows(rng, 32, 4, [0.0], seeds=2)
    for table in ("table1", "table2"):
        df = seed_null.seed_null(table, "shapes", real, {"B": rows[0]}, num_bootstrap=20)
        path = seed_null.write_part(df, table, "smoke", (0, 1))
    gathered = seed_null.gather(path.parent)
    assert gathered["table"].tolist() == ["table1", "table2"]
    assert list(gathered.columns) == list(seed_null.COLUMNS)


def test_an_empty_part_keeps_numeric_columns_so_parts_concatenate_as_numbers():
    rng = np.random.default_rng(4)
    real, rows = simulate_rows(rng, 32, 4, [0.0], seeds=1)
    empty = seed_null.seed_null("t", "one seed", real, {"B": rows[0]}, num_bootstrap=10)
    real, rows = simulate_rows(rng, 32, 4, [0.0], seeds=2)
    full = seed_null.seed_null("t", "two seeds", real, {"B": rows[0]}, num_bootstrap=10)
    both = pd.concat([empty, full], ignore_index=True)
    assert empty.empty and all(pd.api.types.is_float_dtype(both[c]) for c in seed_null.DIFFERENCE)


def null_table(calls: int, rows: int) -> pd.DataFrame:
    return pd.DataFrame({"table": "t", "row": [f"r{i}" for i in range(rows)], "benchmark": "b", "distance": "kvd",
                         "difference": 0.0, "difference_low": -1.0, "difference_high": 1.0,
                         "verdict": ["reproduced"] * calls + [NOT_TESTABLE] * (rows - calls)})


def test_statement_reads_the_rate_against_one_in_twenty():
    assert "nothing to judge" in seed_null.statement(null_table(0, 0))
    calibrated = seed_null.statement(null_table(0, 100))
    assert "0 of 100 rows" in calibrated and "no more often than a calibrated rule allows" in calibrated
    few = seed_null.statement(null_table(0, 6))
    assert "cannot rule out a rate of up to" in few
    unsure = seed_null.statement(null_table(1, 6))
    assert "1 of 6 rows (17%" in unsure and "cannot tell that from a calibrated rule" in unsure
    off = seed_null.statement(null_table(8, 20))
    assert "more often than a calibrated rule would" in off and "training noise" in off


def test_figure_draws_every_row_around_zero():
    import matplotlib.pyplot as plt

    df = null_table(1, 3)
    df.loc[0, ["difference", "difference_low", "difference_high"]] = [2.0, 1.0, 3.0]  # the call: misses 0
    fig = seed_null.figure(df)
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == 3 and "t · b · r0 (KVD)" in ax.get_yticklabels()[0].get_text()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["not testable here (as it should be)",
                                                                  "a difference called (a false call)"]
    assert ax.get_xlim()[0] < 0 < ax.get_xlim()[1]
    plt.close(fig)
    with pytest.raises(ValueError, match="no row to draw"):
        seed_null.figure(df.iloc[:0])
