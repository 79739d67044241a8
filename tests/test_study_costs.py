"""benchmarks/study_costs.py: a study run's wall time split by what its progress bars report."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest

from magvit.infra.paths import REPO_ROOT


@pytest.fixture(scope="module")
def sc():
    spec = importlib.util.spec_from_file_location("study_costs", REPO_ROOT / "benchmarks" / "study_costs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seconds_reads_tqdm_intervals(sc):
    assert sc.seconds("03:38") == 218.0 and sc.seconds("1:02:03") == 3723.0
    with pytest.raises(ValueError, match="tqdm interval"):
        sc.seconds("12")


def test_bar_seconds_counts_finished_bars_once_by_stage(sc):
    lines = [
        "tokenizer (magvit3d): step 150/1100 [02:47<20:53,  1.32s/it, loss=0.02]",  # unfinished: not counted
        "tokenizer (magvit3d): step 1100/1100 [20:31<00:00,  1.12s/it, loss=0.01]",
        "tokenizer (magvit3d): step 1100/1100 [20:31<00:00,  1.12s/it, loss=0.01]",  # tqdm's close repeats it
        "proxy evaluator: step 1200/1200 [08:18<00:00,  2.41it/s, total=0.486]",
        "transformer shapes CG commit mask+recons+refine: step 38/38 [00:08<00:00,  4.35it/s, loss=6.38]",
        "transformer pushbot FP ar: step 300/300 [00:47<00:00,  6.33it/s, loss=6.34]",
        "sampling FP: 100%|██████████| 4/4 [03:38<00:00, 54.64s/it]",
        "sampling: 34 (model, task) runs over 10 tasks (FP, FI), 544 clips in 01:04",
        "validation: 100%|██████████| 5/5 [01:19<00:00, 15.86s/it]",
        "wrote results/table6_decoding.csv",
    ]
    assert sc.bar_seconds(lines) == {"tokenizer": 1231.0, "evaluator": 498.0, "transformer": 55.0,
                                     "sampling": 282.0, "other bars": 79.0}


def test_study_costs_splits_each_notebooks_wall_time(sc, tmp_path):
    (tmp_path / "notebooks").mkdir()
    log = pd.DataFrame([
        {"notebook": "02_metrics.ipynb", "profile": "cpu", "seed": 0, "status": "failed", "wall_s": 5.0,
         "started_utc": "a", "git_commit": "old"},
        {"notebook": "02_metrics.ipynb", "profile": "cpu", "seed": 0, "status": "ok", "wall_s": 600.0,
         "started_utc": "b", "git_commit": "new"},
    ])
    log.to_csv(tmp_path / "study_log.csv", index=False)
    cell = {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stderr", "text": [
        "proxy evaluator: step 10/1200 [00:05<09:00]\rproxy evaluator: step 1200/1200 [08:00<00:00, 2.5it/s]\n"]}]}
    (tmp_path / "notebooks" / "02_metrics.ipynb").write_text(json.dumps({"cells": [cell]}))
    costs = sc.study_costs(tmp_path).set_index("stage")
    assert costs.loc["evaluator", "seconds"] == 480.0 and costs.loc["rest", "seconds"] == 120.0
    assert set(costs.run_commit) == {"new"}


def test_a_logged_notebook_without_its_executed_copy_is_named(sc, tmp_path):
    pd.DataFrame([{"notebook": "05_decoding.ipynb", "profile": "cpu", "seed": 0, "status": "ok", "wall_s": 1.0,
                   "started_utc": "b", "git_commit": "c"}]).to_csv(tmp_path / "study_log.csv", index=False)
    with pytest.raises(FileNotFoundError, match="05_decoding.ipynb.*--only 05"):
        sc.study_costs(tmp_path)
