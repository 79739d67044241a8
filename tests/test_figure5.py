"""Figure 5's timing harness (magvit.experiments.figure5): every decoder timed, per precision, on the profile's
device, and C8 judged in any list of settings."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
import torch

from magvit import profiles
from magvit.config import Figure5Config
from magvit.experiments import cost_model, figure5


@pytest.fixture(scope="module")
def tiny() -> profiles.Profile:
    p = profiles.get("smoke", device="cpu")
    return replace(p, figure5=Figure5Config(paper_size=False, resolutions=(16,), batches=(1,), predict_only=(),
                                            ar_points=2, repeats=1, full_check=(0, 0)))


@pytest.mark.parametrize("dtype, label", [(None, "fp32"), (torch.bfloat16, "bfloat16")])
def test_measure_times_every_decoder_in_its_precision(tiny, dtype, label):
    table, ar_steps = figure5.measure(tiny, progress=lambda _: None, dtype=dtype)
    assert set(table["decoder"]) == set(cost_model.DECODERS)
    assert (table["precision"] == label).all()
    assert (table["transformer_s_per_clip"] > 0).all() and (table["decode_s_per_clip"] > 0).all()
    # diffusion runs diffusion_steps forwards, COMMIT decode_steps: with the same network it must take longer
    by = table.drop_duplicates("decoder").set_index("decoder")["transformer_s_per_clip"]
    assert by["diffusion"] > by["commit"]
    first = ar_steps["cache_length"].iloc[:2].tolist()  # ar_points = 2 cache lengths per timed size, increasing
    assert len(ar_steps) % 2 == 0 and first[0] < first[1]


def test_best_returns_the_fastest_of_its_repeats():
    calls = iter([0.02, 0.0, 0.01])
    assert figure5.best(lambda: torch.tensor(next(calls)), 3) < 0.01 + 1e-3  # host work only: the tiny calls


def test_c8_claims_judges_each_setting_given(tiny):
    rows = []
    for decoder, seconds in {"commit": 1.0, "maskgit": 1.0, "ar": 40.0, "diffusion": 120.0}.items():
        rows.append({"model": "m", "resolution": 16, "batch": 1, "decoder": decoder, "frames": 16,
                     "transformer_s_per_clip": seconds, "decode_s_per_clip": 0.0,
                     "pred_x_transformer_s": 1.0, "pred_x_decode_s": 0.0})
    table = pd.DataFrame(rows)
    table.loc[table["decoder"] != "commit", "pred_x_transformer_s"] = 0.5  # predicted: COMMIT the slowest
    settings = (("measured, here", "transformer_s_per_clip", "decode_s_per_clip"),
                ("predicted, x", "pred_x_transformer_s", "pred_x_decode_s"))
    claims = figure5.c8_claims(table, 16, 1, 16, "m", settings)
    assert len(claims) == 2
    assert claims["verdict"].tolist() == ["reproduced", "not reproduced"]
    assert "measured, here" in claims["setting"].iloc[0] and "AR / COMMIT 40.0x" in claims["ours"].iloc[0]


def test_direct_timing_runs_every_decoder_end_to_end(tiny):
    direct = replace(tiny, figure5=replace(tiny.figure5, direct=True, ar_direct_max_steps=10_000))
    table, ar_steps = figure5.measure(direct, progress=lambda _: None)
    assert (table["timing"] == "direct").all() and (table["transformer_s_per_clip"] > 0).all()
    assert set(ar_steps["method"]) == {"direct"}
    # diffusion is diffusion_steps timed full forwards
    row = table[table["decoder"] == "diffusion"].iloc[0]
    assert row["transformer_s_per_clip"] == pytest.approx(
        direct.figure5.diffusion_steps * row["forward_full_timed_s"] / row["batch"])
    # over the cap, AR falls back to sampled cache lengths
    capped = replace(direct, figure5=replace(direct.figure5, ar_direct_max_steps=1))
    _, ar_steps = figure5.measure(capped, progress=lambda _: None)
    assert set(ar_steps["method"]) == {"points"}


def test_gpu_runs_reads_every_committed_run_and_counts_steps(tmp_path):
    def run(folder, commit_s, ar_s):
        folder.mkdir(parents=True, exist_ok=True)
        rows = [{"model": "MAGVIT-B", "resolution": 128, "batch": 1, "frames": 16, "tokens": 1024, "precision": "fp32",
                 "decoder": d, "transformer_s_per_clip": s, "decode_s_per_clip": 0.01, "git_commit": "abc",
                 "device": "gpu", "forward_full_timed_s": 0.008, "forward_full_extrapolated_s": 0.002}
                for d, s in {"commit": commit_s, "maskgit": commit_s, "ar": ar_s, "diffusion": 2.0}.items()]
        pd.DataFrame(rows).to_csv(folder / "figure5_generation.csv", index=False)

    run(tmp_path / "gpu", 0.12, 3.84)
    run(tmp_path / "gpu" / "rerun", 0.06, 3.84)
    runs = figure5.gpu_runs(tmp_path / "gpu")
    assert runs["run"].tolist() == ["gpu", "gpu/rerun"]
    first = runs.iloc[0]
    assert first["commit_ms_per_step"] == pytest.approx(10.0)  # 0.12 s / K = 12
    assert first["ar_ms_per_step"] == pytest.approx(5.0)  # 3.84 s / (1024 - 256 given tokens of the first frame)
    assert first["ar_over_commit"] == pytest.approx(3.85 / 0.13)
    assert first["timing"] == "extrapolated" and first["forward_extrapolated_ms"] == pytest.approx(2.0)
