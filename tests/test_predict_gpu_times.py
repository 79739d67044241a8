"""benchmarks/predict_gpu_times.py: the phase schedule (waits for another notebook's model, GPU
contention) and the prediction for the `gpu` profile within its 9 minutes."""

from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest

from magvit.infra.paths import REPO_ROOT


@pytest.fixture(scope="module")
def predictor():
    path = REPO_ROOT / "benchmarks" / "predict_gpu_times.py"
    spec = importlib.util.spec_from_file_location("predict_gpu_times", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_schedule_waits_for_a_model_and_stretches_only_the_gpu_share(predictor):
    part = predictor.Part
    host = {"01_a": [part("host", 10.0, 0.0)], "02_b": [part("host", 10.0, 0.0)]}
    assert predictor.schedule(host, slots=2) == pytest.approx(10.0, abs=0.5)  # no GPU: side by side
    gpu = {"01_a": [part("gpu", 10.0, 1.0)], "02_b": [part("gpu", 10.0, 1.0)]}
    assert predictor.schedule(gpu, slots=2) == pytest.approx(20.0, abs=0.5)  # one GPU: each at half the rate
    waiting = {"03_c": [part("tokenizer", 10.0, 0.0, makes="tokenizer")],
               "02_b": [part("evaluator", 4.0, 0.0), part("uses it", 5.0, 0.0, waits="tokenizer")]}
    assert predictor.schedule(waiting, slots=2) == pytest.approx(15.0, abs=0.5)  # held until 03 made it
    assert predictor.schedule(waiting, slots=1) == pytest.approx(19.0, abs=0.5)  # 03 starts first, then 02
    deadlock = {"02_b": [part("uses it", 1.0, 0.0, waits="tokenizer"), part("e", 1.0, 0.0, makes="evaluator")],
                "03_c": [part("uses it", 1.0, 0.0, waits="evaluator"), part("t", 1.0, 0.0, makes="tokenizer")]}
    with pytest.raises(RuntimeError, match="stuck"):
        predictor.schedule(deadlock, slots=2)


def test_the_gpu_profile_is_predicted_within_its_nine_minutes(predictor, tmp_path, monkeypatch):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path))
    table = predictor.main([])
    written = pd.read_csv(tmp_path / "predicted_times.csv")
    assert list(written.notebook[:13]) == sorted(p.name for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    total = table.set_index("notebook").predicted_seconds
    # the one-GPU study's 9 minutes wall; the prediction is held a minute under it (its margin for what it
    # assumes), and the total at notebook 02's measured transformer rate (the slow case) under the 9 minutes
    assert total["TOTAL --parallel 4"] <= 8 * 60
    assert total["TOTAL --parallel 4, transformer at notebook 02's measured rate"] <= 9 * 60
    assert total["TOTAL --parallel 4"] < total["TOTAL one at a time"]
    assert (written.kind == "PREDICTION (not measured)").all() and {"basis", "rates_from"} <= set(written.columns)
