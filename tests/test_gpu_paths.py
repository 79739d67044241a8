"""The `gpu` profile's code paths at `smoke` sizes on the CPU: a finite token set trained on ids with the
condition built on the device, clips drawn by worker processes, device-side losses read back in blocks by `fit`,
bf16 autocast, the device check of `profiles.get`, and the parallel study runner."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
import torch

from magvit import data, profiles
from magvit.config import SpeedConfig
from magvit.generative import token_set as token_sets
from magvit.generative.tasks import condition_video
from magvit.generative.train import TokenSetKey, get_transformer
from magvit.infra import train as infra_train
from magvit.infra.artifacts import ArtifactStore
from magvit.tokenizer.train import tokenizer_batch


def test_step_batches_with_workers_are_the_serial_batches():
    cfg = profiles.get("smoke", device="cpu").tokenizer
    fn = partial(tokenizer_batch, cfg, num_frames=4, resolution=16, seed=0)
    rng_before = torch.get_rng_state()
    draw = data.StepBatches(fn, 5, workers=2)
    got = [draw(s) for s in (0, 1, 2, 1, 2, 3, 4, 7)]  # a restart (resume at step 1) and one past the end
    draw.close()
    assert torch.equal(torch.get_rng_state(), rng_before), "the workers' seed came from the global RNG"
    for s, batch in zip((0, 1, 2, 1, 2, 3, 4, 7), got, strict=True):
        assert torch.equal(batch, fn(s))
    with pytest.raises(ValueError, match="workers must be >= 0"):
        data.StepBatches(fn, 5, workers=-1)


def test_token_set_holds_the_tokenizers_ids_of_the_clips_and_their_condition_videos(smoke_untrained):
    profile, _ = smoke_untrained
    tokenizer = get_transformer.__globals__["get_tokenizer"](profile)[0]
    res, frames = profile.data.resolution, profile.data.num_frames
    tokens = token_sets.token_set(tokenizer, "shapes", ("CG", "FP"), 10, frames, res, workers=2, chunk=4)
    assert tokens.z.shape == (10, math.prod(tokenizer.latent_shape)) and tokens.z_tilde.shape[:2] == (2, 10)
    video, labels = data.get_batch(data.load("shapes", "train", frames, res), range(10))
    assert torch.equal(tokens.z, tokenizer.encode(video).flatten(1))
    assert torch.equal(tokens.z_tilde[1], tokenizer.encode(condition_video(video, "FP")).flatten(1))
    assert torch.equal(tokens.labels, labels["label"])
    assert not tokens.ispad[1].all() and tokens.ispad[0].all()  # FP has condition tokens, CG none
    again = token_sets.token_set(tokenizer, "shapes", ("CG", "FP"), 10, frames, res)  # from the disk cache
    assert torch.equal(again.z_tilde, tokens.z_tilde)
    with pytest.raises(ValueError, match="at least one clip"):
        token_sets.token_set(tokenizer, "shapes", ("CG",), 0, frames, res)


@pytest.mark.parametrize("tasks, condition", [(("CG", "FP"), "commit"), (("FP",), "latent"), (("CG",), "ar")])
def test_a_transformer_trains_on_a_token_set_with_device_side_losses(smoke_untrained, tasks, condition):
    profile, store = smoke_untrained
    fast = replace(profile, speed=SpeedConfig(train_clips=12, workers=2, bf16=True))
    model, log = get_transformer(fast, "shapes", tasks, condition, store=store)
    assert list(log["step"]) == list(range(fast.transformer.steps)) and log["loss"].map(math.isfinite).all()
    assert store.exists("transformer", TokenSetKey(model.cfg, 12, True), 0)
    # the old stream keeps its own key: smoke / cpu results never come from the finite set
    _, slow = get_transformer(profile, "shapes", tasks, condition, store=store)
    assert not slow["loss"].equals(log["loss"])


def test_fit_reads_device_side_losses_back_in_blocks_and_names_the_bad_step(tmp_path, monkeypatch):
    monkeypatch.setattr(infra_train, "LOG_EVERY", 3)
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def step_fn(step: int) -> dict[str, torch.Tensor]:
        return {"loss": torch.tensor(float(step)), "lr": 0.1}

    log = infra_train.fit("toy", {"n": 1}, 0, {"net": net}, {"opt": opt}, step_fn, 7, store=ArtifactStore(tmp_path))
    assert list(log["step"]) == list(range(7)) and list(log["loss"]) == [float(s) for s in range(7)]

    def bad(step: int) -> dict[str, torch.Tensor]:
        return {"loss": torch.tensor(float("nan") if step == 4 else 1.0)}

    with pytest.raises(FloatingPointError, match="at step 4"):
        infra_train.fit("toy", {"n": 2}, 0, {"net": net}, {"opt": opt}, bad, 7, store=ArtifactStore(tmp_path))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_asked_for_without_cuda_is_named_at_profiles_get(monkeypatch):
    monkeypatch.setenv("MAGVIT_DEVICE", "cuda")
    with pytest.raises(ValueError, match=r"\$MAGVIT_DEVICE='cuda' for profile 'smoke', but torch sees no CUDA"):
        profiles.get("smoke")
    with pytest.raises(ValueError, match="device='cuda:1' for profile 'cpu'"):
        profiles.get("cpu", device="cuda:1")


def test_gpu_profile_uses_the_fast_paths_and_the_small_profiles_do_not():
    gpu = profiles.get("gpu", device="cpu")
    assert gpu.speed.train_clips > 0 and gpu.speed.workers > 0 and gpu.speed.bf16
    assert gpu.data.resolution == 32 and len(gpu.seeds) >= 2
    for name in ("smoke", "cpu"):
        assert profiles.get(name, device="cpu").speed == SpeedConfig()


def test_gpu_profile_gives_class_conditioning_the_steps():
    """MAGVIT-B CG's clips were recognised at 0.18 after 1000 steps on the H200; Table 1 (and the resolving
    power's shapes reference) trains 4x the other transformers' steps, L and B alike (C6), and every fraction a
    notebook passes to ``size_config`` is one it accepts."""
    from magvit.experiments.table1 import size_config

    gpu = profiles.get("gpu", device="cpu")
    cg = size_config(gpu, "B", gpu.tables.table1_train_fraction)
    assert cg.steps >= 2000 and cg.steps == 4 * gpu.transformer.steps and cg.batch_size == 64
    assert size_config(gpu, "L", gpu.tables.table1_train_fraction).steps == cg.steps
    assert size_config(gpu, "B", gpu.tables.scenes_train_fraction).steps == gpu.transformer.steps


def test_parallel_start_order_names_every_notebook_once():
    from magvit import study

    assert sorted(study.LONGEST_FIRST) == [f"{i:02d}" for i in range(1, 11)]


def test_parallel_runner_runs_00_03_then_04_11_concurrently_then_12(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from magvit import study

    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    stamp = ("import time, pathlib\nstart = time.time()\ntime.sleep(2)\n"
             "pathlib.Path({!r}).write_text(f'{{start}} {{time.time()}}')")
    for name in ("00_a", "03_b", "04_c", "05_d", "06_e", "12_f"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("profile = None\nseed = 0", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(stamp.format(str(tmp_path / f"{name}.t")))]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, nbs / f"{name}.ipynb")
    assert study.main(["--profile", "smoke", "--parallel", "3", "--notebooks-dir", str(nbs)]) == 0
    names = ("00_a", "03_b", "04_c", "05_d", "06_e", "12_f")
    t = {name: [float(x) for x in (tmp_path / f"{name}.t").read_text().split()] for name in names}  # start, end
    middle = [t[name] for name in ("04_c", "05_d", "06_e")]
    assert t["00_a"][1] < t["03_b"][0] and t["03_b"][1] < min(start for start, _ in middle)
    assert max(end for _, end in middle) < t["12_f"][0]
    assert max(start for start, _ in middle) < min(end for _, end in middle)  # all three ran at once
    log = pd.read_csv(tmp_path / "results" / "study_log.csv")
    assert sorted(log["notebook"]) == sorted(f"{n}.ipynb" for n in t) and set(log["status"]) == {"ok"}
    assert (tmp_path / "results" / "notebooks" / "05_d.log").exists()


def test_keep_going_runs_every_phase_past_a_failure_and_names_it(tmp_path, monkeypatch, capsys):
    """A lent GPU's one call (benchmarks/gpu_study.sh): a notebook that fails does not stop the later phases."""
    nbformat = pytest.importorskip("nbformat")
    from magvit import study

    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name, body in (("01_a", "raise RuntimeError('boom')"), ("02_b", "x = 1"), ("05_c", "x = 2"), ("12_d", "x = 3")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("profile = None\nseed = 0", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(body)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, nbs / f"{name}.ipynb")
    assert study.main(["--profile", "smoke", "--parallel", "2", "--keep-going", "--notebooks-dir", str(nbs)]) == 1
    assert "01_a.ipynb" in capsys.readouterr().err
    log = pd.read_csv(tmp_path / "results" / "study_log.csv").set_index("notebook")["status"]
    assert log.to_dict() == {"01_a.ipynb": "failed", "02_b.ipynb": "ok", "05_c.ipynb": "ok", "12_d.ipynb": "ok"}


def test_two_processes_asking_for_one_token_set_build_it_once(tmp_path):
    """Two notebooks of a parallel run training on the same clips: one tokenises, the other waits and loads."""
    script = (
        "import sys, torch\n"
        "from magvit import profiles\n"
        "from magvit.generative import token_set as ts\n"
        "from magvit.tokenizer.model import build_tokenizer\n"
        "p = profiles.get('smoke', device='cpu')\n"
        "torch.manual_seed(0)\n"
        "tok = build_tokenizer(p.tokenizer, p.data).eval()\n"
        "built = []\n"
        "encode = tok.encode\n"
        "tok.encode = lambda v: built.append(1) or encode(v)\n"
        "s = ts.token_set(tok, 'pushbot', ('FP',), 48, p.data.num_frames, p.data.resolution, chunk=8)\n"
        "torch.save(s.z_tilde, sys.argv[1])\n"
        "print('encodes', len(built))\n")
    env = {**os.environ, "MAGVIT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"{i}.pt")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    encodes = sorted(int(out.split("encodes")[-1]) for out, _ in outs)
    assert encodes == [0, 12]  # 6 chunks x (V + FP's V~) in one process, nothing in the other
    assert torch.equal(torch.load(tmp_path / "0.pt"), torch.load(tmp_path / "1.pt"))
