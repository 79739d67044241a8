"""The transformer dissection (magvit.experiments.transformer_dissection): its held-out loss and a smoke run."""

import math
from dataclasses import replace

import pandas as pd
import pytest
import torch

from magvit import profiles
from magvit.experiments import transformer_dissection as td
from magvit.generative.train import get_transformer


@pytest.fixture(scope="module")
def smoke_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("dissection")
    mp = pytest.MonkeyPatch()
    mp.setenv("MAGVIT_CACHE", str(root / "cache"))
    mp.setenv("MAGVIT_RESULTS", str(root / "results"))
    mp.setenv("MAGVIT_PROGRESS", "summary")
    yield profiles.get("smoke", device="cpu"), root
    mp.undo()


def test_masked_loss_is_a_cross_entropy_and_ignores_classes_the_model_cannot_tell_apart(smoke_env):
    p, _ = smoke_env
    model, _ = get_transformer(p, "shapes", "CG", "commit", seed=0)
    cond, labels = td.held_out_tokens(model, "CG", "test", 16)
    assert cond.z.shape == (16, model.num_tokens) and labels.shape == (16,)
    loss = td.masked_loss(model, cond)
    # a barely trained model: near the uniform code distribution's log K, and repeatable
    assert 0 < loss < 1.5 * math.log(model.vocab.codebook_size)
    assert td.masked_loss(model, cond) == loss
    # with every class embedding made identical, shuffling the classes cannot change the loss
    k, c = model.vocab.codebook_size, model.vocab.num_classes
    with torch.no_grad():
        emb = model.transformer.tok_emb.weight
        saved = emb[k:k + c].clone()
        emb[k:k + c] = emb[k]
        assert td.masked_loss(model, cond, shuffle_classes=True) == pytest.approx(td.masked_loss(model, cond),
                                                                                  abs=1e-6)
        emb[k:k + c] = saved


def test_a_smoke_dissection_writes_one_row_per_change_and_task_with_a_samples_figure(smoke_env):
    p, root = smoke_env
    new = td.dissect(p, ["reference"], [("shapes", "CG"), ("pushbot", "FP")], [0], clips=16)
    assert list(zip(new.benchmark, new.task, strict=True)) == [("shapes", "CG"), ("pushbot", "FP")]
    cg, fp = new.iloc[0], new.iloc[1]
    assert 0 <= cg["class_accuracy"] <= 1 and cg["chance"] == pytest.approx(1 / 12)
    assert cg["class_nats"] == pytest.approx(cg["heldout_loss_shuffled"] - cg["heldout_loss"])
    assert pd.isna(fp.get("class_accuracy")) and fp["fvd_over_floor"] == pytest.approx(fp["fvd"] / fp["floor_fvd"])
    table = td.merge(p, new)
    again = td.merge(p, td.dissect(p, ["reference"], [("shapes", "CG")], [0], clips=16))  # replaces, keeps FP
    assert len(table) == len(again) == 2
    assert (root / "results" / f"{td.TABLE}.csv").exists()
    assert len(list((root / "results" / "figures" / "diagnostics").glob("transformer_dissection_*.png"))) == 2
    assert set(td.summary(again).index.get_level_values("task")) == {"CG", "FP"}


def test_unknown_change_and_change_configs(smoke_env):
    p, _ = smoke_env
    with pytest.raises(ValueError, match="unknown change"):
        td.dissect(p, ["no such change"], [("shapes", "CG")], [0], clips=8)
    cp, cfg = td.change_config(p, td.CHANGES["1000x32 set16k"])
    assert (cfg.steps, cfg.batch_size, cp.speed.train_clips) == (1000, 32, 16384)
    cp, cfg = td.change_config(p, td.CHANGES["reference"])
    assert cfg == p.transformer and cp.speed == p.speed
    assert td.change_config(replace(p, speed=replace(p.speed, train_clips=7)),
                            td.CHANGES["300x12 stream"])[0].speed.train_clips == 0


def test_architecture_rows_change_only_their_field_and_sampling_rows_reuse_their_model(smoke_env):
    from magvit.infra.artifacts import config_key
    p, _ = smoke_env
    _, base = td.change_config(p, td.CHANGES["1000x32 set16k"])
    for name, field_name, value in (("1000x32 set16k pos3d", "position", "factorized"),
                                    ("1000x32 set16k preln", "norm", "pre"),
                                    ("1000x32 set16k class-every-token", "class_input", "every_token")):
        _, cfg = td.change_config(p, td.CHANGES[name])
        assert cfg == replace(base, **{field_name: value}), name
    # a sampled row trains nothing: the model it reads has the key of the row it samples
    _, k24 = td.change_config(p, td.CHANGES["2000x32 set16k K24"])
    _, trained = td.change_config(p, td.CHANGES["2000x32 set16k"])
    assert config_key(k24, 0) == config_key(trained, 0) and k24.steps == 2000
    assert td.CHANGES["2000x32 set16k K24"].sampling == {"decode_steps": 24}


def test_figure_and_statement_read_the_table_numbers():
    rows = []
    for change, acc, seed in (("a", 0.10, 0), ("b", 0.55, 0), ("b", 0.45, 1)):
        rows.append({"change": change, "benchmark": "shapes", "task": "CG", "seed": seed, "class_accuracy": acc,
                     "class_accuracy_low": acc - 0.05, "class_accuracy_high": acc + 0.05, "chance": 1 / 12,
                     "real_class_accuracy": 1.0, "fvd_over_floor": 3.0, "class_nats": 0.1, "fvd": 90.0,
                     "floor_fvd": 30.0})
    rows.append({"change": "a", "benchmark": "pushbot", "task": "FP", "seed": 0, "fvd": 250.0, "floor_fvd": 100.0,
                 "fvd_over_floor": 2.5})
    table = pd.DataFrame(rows)
    text = td.statement(table)
    assert "(b, seed 0)" in text and "0.550" in text and "gate 0.500" in text and "the gate is met" in text
    assert "2.50x the tokenizer floor" in text
    below = table.assign(class_accuracy=table["class_accuracy"] * 0.5)
    assert "the gate is not met" in td.statement(below)
    fig = td.figure(table)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="no CG row"):
        td.figure(table[table.task == "FP"])
