"""The tokenizer learning-curve study (notebook 03): its script at smoke, the bar, the adaptations table."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

from magvit import profiles
from magvit.config import TokenizerConfig
from magvit.experiments import learning_curves
from magvit.infra.paths import REPO_ROOT


def test_script_runs_at_smoke_and_keeps_rows_of_earlier_runs(tmp_path):
    env = {"MAGVIT_RESULTS": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}  # this checkout
    script = [sys.executable, str(REPO_ROOT / "benchmarks" / "tokenizer_learning_curves.py"), "--profile", "smoke",
              "--steps", "2", "--every", "1", "--clips", "2", "--threads", "1"]
    subprocess.run(script + ["--rows", "ae: paper design", "vq: batch norm, zero-centred, code restarts"],
                   env=env, check=True, capture_output=True, timeout=300)
    subprocess.run(script + ["--rows", "ae: paper design"], env=env, check=True, capture_output=True, timeout=300)
    longer = [a if a != "2" else "3" for a in script]  # --steps 3: a run of another length is kept beside it
    subprocess.run(longer + ["--rows", "ae: paper design"], env=env, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(tmp_path / "diagnostics" / "tokenizer_learning_curves.csv")
    assert sorted(set(table[table.row == "ae: paper design"].train_steps)) == [2, 3]
    table = table[table.train_steps != 3]
    assert set(table.row) >= {"ae: paper design", "vq: batch norm, zero-centred, code restarts",
                              "reference: clip mean colour"}
    ae = table[(table.row == "ae: paper design") & (table.metric == "psnr")]
    assert sorted(set(ae.step)) == [1, 2] and len(ae) == 2 * 3  # retrained once, not duplicated
    assert not (table[table.row == "ae: paper design"].metric == "perplexity").any()  # continuous latent
    assert (table[table.row.str.startswith("vq")].metric == "perplexity").any()
    assert table.value.notna().all()
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run(script + ["--rows", "no such row"], env=env, check=True, capture_output=True, timeout=120)


def test_bar_is_one_db_below_the_block_mean():
    verdict = learning_curves.bar({"a": 20.0, "b": 19.1, "c": 18.9}, {"a": 19.0, "b": 20.0, "c": 20.0})
    assert verdict.meets_bar.tolist() == [True, True, False]
    assert verdict.gap_db.round(6).tolist() == [1.0, -0.9, -1.1]
    assert "meets the bar on a, b only" in learning_curves.bar_text(verdict)


def test_adaptations_lists_only_what_departs_from_the_paper():
    assert learning_curves.adaptations(replace(TokenizerConfig(), lr=1e-4, perceptual_weight=0.1)).empty
    table = learning_curves.adaptations(profiles.get("cpu", device="cpu").tokenizer)
    assert "lr" in set(table.field)
    for field, (paper, _) in learning_curves.ADAPTATIONS.items():
        if field in ("lr", "perceptual_weight"):
            continue
        assert getattr(TokenizerConfig(), field) == paper  # the config default is the paper's value


def test_final_psnr_takes_each_rows_last_step_mean_over_seeds():
    rows = [{"row": "x", "stage": "ae", "seed": s, "step": st, "benchmark": "pushbot", "metric": "psnr",
             "value": v} for s, st, v in [(0, 1, 10.0), (0, 2, 12.0), (1, 2, 14.0)]]
    one_seed = learning_curves.final_psnr(pd.DataFrame(rows[:2]))  # no train_steps column: the last step
    assert one_seed.loc[("x", 2), "pushbot"] == 12.0
    rows = [{**r, "train_steps": 2} for r in rows]
    rows += [{**rows[0], "step": st, "value": v, "train_steps": 4} for st, v in [(2, 11.0), (4, 16.0)]]
    out = learning_curves.final_psnr(pd.DataFrame(rows))
    assert out.loc[("x", 2), ("mean", "pushbot")] == 13.0  # the 2-step runs of seeds 0 and 1, not the 4-step run
    assert out.loc[("x", 2), ("std over seeds", "pushbot")] == pytest.approx(2 ** 0.5)
    assert out.loc[("x", 4), ("mean", "pushbot")] == 16.0


def test_learning_curves_report_retention_against_the_real_clips(tmp_path):
    """Retention: every evaluated row carries the evaluator's accuracies on its reconstructions, and the references
    carry the real clips' ("reference: real clips")."""
    env = {"MAGVIT_RESULTS": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}  # this checkout
    script = [sys.executable, str(REPO_ROOT / "benchmarks" / "tokenizer_learning_curves.py"), "--profile", "smoke",
              "--steps", "1", "--every", "1", "--clips", "4", "--threads", "1", "--rows", "vq: paper design"]
    subprocess.run(script, env=env, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(tmp_path / "diagnostics" / "tokenizer_learning_curves.csv")
    for row in ("vq: paper design", "reference: real clips", "reference: clip mean colour"):
        metrics = set(table[(table.row == row) & (table.benchmark == "shapes")].metric)
        assert {"label_accuracy", "speed_accuracy", "is_proxy"} <= metrics, (row, metrics)
        assert "direction_accuracy" in set(table[(table.row == row) & (table.benchmark == "pushbot")].metric)
    assert "label_accuracy" not in set(table[table.benchmark == "pushbot"].metric)


def test_retention_dissection_script_at_smoke(tmp_path):
    from magvit.experiments import tokenizer_retention

    env = {"MAGVIT_RESULTS": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}  # this checkout
    script = [sys.executable, str(REPO_ROOT / "benchmarks" / "tokenizer_retention_dissection.py"), "--profile",
              "smoke", "--steps", "2", "--clips", "4", "--threads", "1"]
    subprocess.run(script + ["--changes", "recipe", "64-dim codes"], env=env, check=True, capture_output=True,
                   timeout=300)
    subprocess.run(script + ["--changes", "recipe"], env=env, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(tmp_path / "diagnostics" / "tokenizer_retention_dissection.csv")
    assert len(table) == 2 * 3 and set(table.change) == {"recipe", "64-dim codes"}  # the rerun replaced its rows
    assert {"psnr", "real_class", "recon_class", "class_ratio", "direction_ratio", "is_ratio", "seconds"} <= set(
        table.columns)
    assert table[table.benchmark == "shapes"].real_class.notna().all()
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run(script + ["--changes", "no such change"], env=env, check=True, capture_output=True, timeout=60)
    assert tokenizer_retention.read("no-such-profile") is None
    smoke_steps = profiles.get("smoke").evaluator.steps
    assert not tokenizer_retention.summary(table, smoke_steps).empty
    assert set(table.evaluator_steps) == {smoke_steps}  # the evaluator that read each row
    # rows of another evaluator (or written before the column) stay apart and say so
    other = table.assign(evaluator_steps=smoke_steps + 1)
    older = table.drop(columns="evaluator_steps")
    names = set(tokenizer_retention.summary(pd.concat([table, other, older]), smoke_steps).index.get_level_values(0))
    assert names == {f"{c}{tag}" for c in ("recipe", "64-dim codes")
                     for tag in ("", f" [evaluator {smoke_steps + 1} steps]", " [earlier evaluator]")}
    subprocess.run(script + ["--references"], env=env, check=True, capture_output=True, timeout=300)
    refs = pd.read_csv(tmp_path / "diagnostics" / "tokenizer_retention_references.csv")
    assert {"block mean 4x4x4", "clip mean colour", "blur 1 px"} <= set(refs.reference)


def test_evaluator_strength_script_at_smoke(tmp_path):
    """benchmarks/evaluator_strength.py: one row per (evaluator budget, benchmark, head), the gated rows with their
    intervals, the same tokenizer's reconstructions read by every evaluator."""
    env = {"MAGVIT_RESULTS": str(tmp_path), "MAGVIT_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(REPO_ROOT)}
    script = [sys.executable, str(REPO_ROOT / "benchmarks" / "evaluator_strength.py"), "--profile", "smoke",
              "--steps", "4", "6", "--clips", "6"]
    subprocess.run(script, env=env, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(tmp_path / "diagnostics" / "evaluator_strength.csv")
    assert set(table.evaluator_steps) == {4, 6}
    per_budget = table.groupby("evaluator_steps").size()
    assert per_budget.nunique() == 1 and per_budget.iloc[0] >= 6
    gated = table[table.required.notna()]
    assert len(gated) == 2 * 3
    judged = gated.dropna(subset=["ratio_low", "ratio_high"])  # a smoke evaluator may read a head at 0 on real clips
    assert len(judged) >= 2 and (judged.ratio_low <= judged.ratio_high).all()
    assert table[table.required.isna()].ratio_low.isna().all()
    # a real-clip reading of the same head differs between budgets only through the evaluator
    assert (table.clips > 0).all() and set(table["head"]) >= {"label", "direction", "is_proxy"}
    mono = pd.read_csv(tmp_path / "diagnostics" / "evaluator_strength_monotonicity.csv")
    assert set(mono.evaluator_steps) == {4, 6} and {"noise", "blur", "freeze"} <= set(mono.corruption)
