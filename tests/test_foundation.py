"""Profiles, config hashing, the atomic artifact store, the results writer, the paper tables."""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import magvit.infra.atomic as atomic
from magvit import profiles
from magvit.config import KEYED, TokenizerConfig, TransformerConfig
from magvit.experiments import paper
from magvit.experiments.verdicts import (
    NOT_REPRODUCED,
    NOT_TESTABLE,
    PARTLY,
    REPRODUCED,
    Estimate,
    beats,
    beats_across_seeds,
    chain,
    chain_across_seeds,
)
from magvit.infra import results
from magvit.infra.artifacts import ArtifactStore, ConfigMismatchError, config_key, load_checkpoint
from magvit.infra.paths import REPO_ROOT


@pytest.mark.parametrize("name", ["smoke", "cpu", "gpu", "paper"])
def test_profiles_lookup(name):
    p = profiles.get(name, device="cpu")
    assert p.name == name and p.device == "cpu"
    assert p.data.resolution % 4 == 0 and p.data.num_frames == 16
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "other"


def test_profile_unknown_names_valid_ones():
    with pytest.raises(ValueError, match="smoke, cpu, gpu, paper"):
        profiles.get("laptop")


def test_profile_none_reads_environment(monkeypatch):
    monkeypatch.setenv("MAGVIT_PROFILE", "smoke")
    assert profiles.get(None).name == "smoke"
    monkeypatch.delenv("MAGVIT_PROFILE")
    assert profiles.get(None).name == "cpu"


def test_profile_device_auto_and_override(monkeypatch):
    monkeypatch.delenv("MAGVIT_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert profiles.get("smoke").device == expected
    assert profiles.get("smoke", device="meta").device == "meta"
    with pytest.raises(ValueError, match="unknown device"):
        profiles.get("smoke", device="abacus")


def test_config_key_stable_and_sensitive_to_every_field():
    cfg = TokenizerConfig()
    assert config_key(cfg, 0) == config_key(TokenizerConfig(), 0)
    assert config_key(cfg, 0) != config_key(cfg, 1)
    keys = {config_key(cfg, 0)}
    keyed = [f for f in dataclasses.fields(cfg) if f.metadata.get(KEYED, True)]  # unkeyed: tests/test_artifact_keys.py
    for f in keyed:
        value = getattr(cfg, f.name)
        if isinstance(value, bool):
            new = not value
        elif isinstance(value, int | float):
            new = value + 1
        elif isinstance(value, str):
            new = value + "x"
        else:  # tuple
            new = (*value, value[-1])
        keys.add(config_key(dataclasses.replace(cfg, **{f.name: new}), 0))
    assert len(keys) == len(keyed) + 1
    # the config type is part of the key, so two classes with equal fields never collide
    assert config_key(cfg, 0) != config_key(dataclasses.asdict(cfg), 0)


def test_store_roundtrip_with_sidecar(tmp_path):
    store = ArtifactStore(tmp_path)
    cfg = TokenizerConfig()
    state = {"w": torch.arange(6.0).reshape(2, 3), "step": 3}
    path = store.save("tok", cfg, 0, state)
    assert store.exists("tok", cfg, 0) and not store.exists("tok", cfg, 1)
    loaded = store.load("tok", cfg, 0)
    assert torch.equal(loaded["w"], state["w"]) and loaded["step"] == 3
    meta = json.loads(path.with_suffix(".json").read_text())
    assert {"config", "seed", "git_commit", "torch_version", "device", "created"} <= set(meta)
    assert meta["config"]["filters"] == cfg.filters


def test_store_refuses_other_config_naming_fields(tmp_path):
    store = ArtifactStore(tmp_path)
    path = store.save("tok", TokenizerConfig(filters=16), 0, {"w": torch.zeros(1)})
    with pytest.raises(ConfigMismatchError, match=r"filters: requested 32, checkpoint has 16") as err:
        load_checkpoint(path, TokenizerConfig(filters=32, codebook_size=99))
    assert "codebook_size" in str(err.value) and "padding" not in str(err.value)
    with pytest.raises(ConfigMismatchError, match="num_layers"):
        load_checkpoint(path, TransformerConfig())


def test_interrupted_write_keeps_previous_artifact(tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path)
    cfg = TokenizerConfig()
    store.save("tok", cfg, 0, {"w": torch.ones(3)})

    def crash(src, dst):  # the process dies between writing the temporary file and the replace
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(atomic, "_replace", crash)
    with pytest.raises(KeyboardInterrupt):
        store.save("tok", cfg, 0, {"w": torch.zeros(3)})
    monkeypatch.undo()
    assert torch.equal(store.load("tok", cfg, 0)["w"], torch.ones(3))
    assert not list(tmp_path.rglob("*.tmp")), "the temporary file was left behind"


def test_results_writer_provenance_and_nan_refusal(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path))
    df = pd.DataFrame({"model": ["a", "b"], "fvd": [1.5, 2.5], "lpips": ["n/a", "n/a"]})
    path = results.write_table(df, "demo", profile="smoke", seeds=[0, 1], device="cpu")
    out = pd.read_csv(path)
    assert list(out["fvd"]) == [1.5, 2.5]
    for column in results.PROVENANCE:
        assert out[column].notna().all(), column
    assert set(out["profile"]) == {"smoke"} and set(out["seeds"]) == {"0 1"}
    assert out["torch_version"][0] == torch.__version__
    for bad in (np.nan, math.inf):
        with pytest.raises(ValueError, match="'fvd'"):
            results.write_table(df.assign(fvd=[1.0, bad]), "demo", profile="smoke", seeds=0)
    assert list(pd.read_csv(path)["fvd"]) == [1.5, 2.5]  # the refused write changed nothing


def test_paper_tables_are_in_the_repository():
    t5 = paper.table("table5_conditional_mtm")
    assert {"method", "fp_fvd", "mt8_fvd"} <= set(t5.columns)
    assert (paper.table("table7_tokenizer")["fvd"] > 0).all()
    with pytest.raises(KeyError, match="available"):
        paper.table("table99")


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(pip_section) - {"-e ."} == declared
    assert "python=3.11" in env["dependencies"]
    assert "torch==2.13.0" in declared
    assert not any(d.split("=")[0].strip("<>") in {"torchvision", "lpips"} for d in declared)


def test_verdict_rules():
    a, b = Estimate(10, 8, 12), Estimate(20, 18, 22)
    assert beats(a, b) == REPRODUCED and beats(b, a) == NOT_REPRODUCED
    assert beats(Estimate(10, 5, 25), b) == NOT_TESTABLE  # the difference's interval covers 0 (tests/test_verdicts.py)
    assert beats(b, a, lower_is_better=False) == REPRODUCED
    assert chain([a, b, Estimate(30, 28, 32)]) == REPRODUCED
    assert chain([a, Estimate(11, 5, 25), Estimate(12, 0, 30)]) == NOT_TESTABLE
    with pytest.raises(ValueError, match="does not contain"):
        Estimate(1, 2, 3)


def test_verdicts_across_seeds():
    def e(v: float, half: float = 1.0) -> Estimate:
        return Estimate(v, v - half, v + half)

    # both seeds resolve the ordering beyond their intervals, and the gap (10) exceeds the seed spread (1)
    assert beats_across_seeds([e(10), e(11)], [e(20), e(21)]) == REPRODUCED
    assert beats_across_seeds([e(20), e(21)], [e(10), e(11)]) == NOT_REPRODUCED
    # the seeds disagree: seed 0 says a, seed 1 says b; the spread (12) exceeds the gap: never "reproduced"
    assert beats_across_seeds([e(10), e(22)], [e(20), e(15)]) == NOT_TESTABLE
    # the gap (5.5) exceeds the difference's interval (evaluation noise and seed spread)
    assert beats_across_seeds([e(10), e(11)], [e(15, 4), e(17)]) == REPRODUCED
    assert beats_across_seeds([e(20), e(21)], [e(10), e(11)], lower_is_better=False) == REPRODUCED
    assert chain_across_seeds([[e(10), e(11)], [e(20), e(21)], [e(30), e(31)]]) == REPRODUCED
    assert chain_across_seeds([[e(10), e(11)], [e(20), e(21)], [e(19), e(30)]]) == PARTLY
    with pytest.raises(ValueError, match="one estimate per seed"):
        beats_across_seeds([e(1)], [e(2), e(3)])


def test_best_time_warms_up_once_and_takes_the_minimum():
    from magvit.infra.hardware import best_time, mfu

    calls = []
    seconds = best_time(lambda: calls.append(1), repeats=3)
    assert len(calls) == 4 and 0 <= seconds < 1
    # MFU = FLOPs / s / peak: 1e9 FLOPs in 0.5 s on a 4 GFLOP/s machine is half the peak
    assert mfu(10**9, 0.5, 4.0) == 0.5


def test_git_commit_marks_uncommitted_code_dirty(tmp_path):
    import subprocess

    from magvit.infra.artifacts import git_commit

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "magvit").mkdir()
    (tmp_path / "magvit" / "a.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", "magvit")
    git("commit", "-qm", "c")
    clean = git_commit(tmp_path)
    assert len(clean) == 12 and "dirty" not in clean
    (tmp_path / "results.csv").write_text("untracked outputs do not count\n")
    assert git_commit(tmp_path) == clean
    (tmp_path / "magvit" / "a.py").write_text("x = 2\n")
    assert git_commit(tmp_path) == clean + "+dirty"


def test_git_commit_is_the_sent_commit_in_a_copy_run_elsewhere(tmp_path, monkeypatch):
    from magvit.infra.artifacts import git_commit

    assert git_commit(tmp_path) == "unknown"  # no git repository here
    monkeypatch.setenv("MAGVIT_GIT_COMMIT", "d59a797d4e3c")
    assert git_commit(tmp_path) == "d59a797d4e3c"


def test_release_files_agree_on_the_license_and_cite_the_paper():
    """pyproject.toml, LICENSE and CITATION.cff name the same license, and the citation file cites MAGVIT."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"]["text"] == "Apache-2.0"
    license_text = (REPO_ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    citation = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "Apache-2.0"
    assert citation["version"] == project["version"]
    paper_ref = citation["preferred-citation"]
    assert paper_ref["title"] == "MAGVIT: Masked Generative Video Transformer" and paper_ref["year"] == 2023
    assert paper_ref["authors"][0] == {"family-names": "Yu", "given-names": "Lijun"}
